package bandwidth

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// ErrNoDefaultRoute is returned when the routing table has no IPv4 default
// route that is up.
var ErrNoDefaultRoute = errors.New("bandwidth: no default route")

const rtfUp = 0x1 // RTF_UP in the Flags column

// ParseDefaultRoute returns the interface of the IPv4 default route in the
// content of /proc/net/route: destination and mask 0.0.0.0, flag up, and
// the lowest metric when there are several.
func ParseDefaultRoute(data []byte) (string, error) {
	best, bestMetric := "", uint64(0)
	for n, line := range bytes.Split(data, []byte("\n")) {
		f := bytes.Fields(line)
		if n == 0 || len(f) == 0 {
			continue // header
		}
		if len(f) < 8 {
			return "", fmt.Errorf("bandwidth: net/route line %d: %d columns, want at least 8", n+1, len(f))
		}
		flags, err1 := strconv.ParseUint(string(f[3]), 16, 32)
		metric, err2 := strconv.ParseUint(string(f[6]), 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return "", fmt.Errorf("bandwidth: net/route line %d: %w", n+1, err)
		}
		isDefault := string(f[1]) == "00000000" && string(f[7]) == "00000000" && flags&rtfUp != 0
		if isDefault && (best == "" || metric < bestMetric) {
			best, bestMetric = string(f[0]), metric
		}
	}
	if best == "" {
		return "", ErrNoDefaultRoute
	}
	return best, nil
}

// DefaultInterface returns the interface of the default route, from
// procPath/net/route.
func DefaultInterface(procPath string) (string, error) {
	data, err := os.ReadFile(filepath.Join(procPath, "net", "route"))
	if err != nil {
		return "", fmt.Errorf("bandwidth: %w", err)
	}
	return ParseDefaultRoute(data)
}
