// Package bandwidth measures a network interface's outgoing bandwidth from
// the kernel's counters in /proc/net/dev, the way node_exporter reads them:
// files are read in one place, parsed by pure functions tested on fixtures,
// and the /proc root is configurable.
package bandwidth

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Counters are one interface's totals from /proc/net/dev, since the
// interface appeared.
type Counters struct {
	ReceiveBytes, ReceivePackets, ReceiveErrors, ReceiveDropped    uint64
	ReceiveFIFO, ReceiveFrame, ReceiveCompressed, ReceiveMulticast uint64

	TransmitBytes, TransmitPackets, TransmitErrors, TransmitDropped       uint64
	TransmitFIFO, TransmitCollisions, TransmitCarrier, TransmitCompressed uint64
}

// fields lists the counters in the order of a /proc/net/dev line.
func (c *Counters) fields() []*uint64 {
	return []*uint64{
		&c.ReceiveBytes, &c.ReceivePackets, &c.ReceiveErrors, &c.ReceiveDropped,
		&c.ReceiveFIFO, &c.ReceiveFrame, &c.ReceiveCompressed, &c.ReceiveMulticast,
		&c.TransmitBytes, &c.TransmitPackets, &c.TransmitErrors, &c.TransmitDropped,
		&c.TransmitFIFO, &c.TransmitCollisions, &c.TransmitCarrier, &c.TransmitCompressed,
	}
}

// ParseNetDev parses the content of /proc/net/dev into counters by
// interface name. The kernel pads names to six characters and glues longer
// names and long numbers to the colon ("enp0s31f6:3150724520612"); both
// forms are accepted. Any malformed line is an error.
func ParseNetDev(data []byte) (map[string]Counters, error) {
	out := make(map[string]Counters)
	for n, line := range bytes.Split(data, []byte("\n")) {
		name, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			// The two header lines have bars and no colon.
			if len(bytes.TrimSpace(line)) == 0 || bytes.IndexByte(line, '|') >= 0 {
				continue
			}
			return nil, fmt.Errorf("bandwidth: net/dev line %d: no colon after the interface name", n+1)
		}
		c, err := parseCounters(rest)
		if err != nil {
			return nil, fmt.Errorf("bandwidth: net/dev line %d: %w", n+1, err)
		}
		out[string(bytes.TrimSpace(name))] = c
	}
	return out, nil
}

func parseCounters(s []byte) (Counters, error) {
	var c Counters
	dst := c.fields()
	fields := bytes.Fields(s)
	if len(fields) != len(dst) {
		return c, fmt.Errorf("%d counters, want %d", len(fields), len(dst))
	}
	for i, f := range fields {
		v, err := strconv.ParseUint(string(f), 10, 64)
		if err != nil {
			return c, fmt.Errorf("counter %d: %w", i+1, err)
		}
		*dst[i] = v
	}
	return c, nil
}

// ReadNetDev reads and parses procPath/net/dev.
func ReadNetDev(procPath string) (map[string]Counters, error) {
	data, err := os.ReadFile(filepath.Join(procPath, "net", "dev"))
	if err != nil {
		return nil, fmt.Errorf("bandwidth: %w", err)
	}
	return ParseNetDev(data)
}
