package icecast

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"autoradio"
)

// StatusPath is where Icecast serves the JSON of the autoradio status
// stylesheet that InstallWebroot puts into the web root. It needs no
// authentication and costs one request, whatever the number of mounts.
const StatusPath = "/autoradio-status.xsl"

// Status is a snapshot of the mounts of one Icecast server.
type Status struct {
	ServerID string `json:"server_id"`
	// Location is the config's <location>, with its ConfigID.
	Location string      `json:"location"`
	Mounts   []MountStat `json:"mounts"`
}

// ConfigID is the Params.ConfigID of the config Icecast read last; 0 if
// it had none.
func (s *Status) ConfigID() uint64 {
	_, id, ok := strings.Cut(s.Location, locationConfig)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseUint(id, 10, 64)
	return n
}

// MountStat is what Icecast reports about one mount. Icecast lists a
// mount only while it has a source, or (relays, mounts with a config block)
// while it is reserved; hidden sources such as fallback files are never
// listed.
type MountStat struct {
	Mount string `json:"mount"`
	// Listeners is Icecast's count, which includes the relay connections
	// of other nodes on the master.
	Listeners int `json:"listeners"`
	// Relays is how many of Listeners are relays of other Icecast
	// servers, when the StatusClient was asked to count them.
	Relays          int    `json:"-"`
	SourceConnected bool   `json:"source_connected"`
	BitrateKbps     int    `json:"bitrate_kbps"`
	Title           string `json:"title"`
}

// ParseStatus parses the JSON served at StatusPath.
func ParseStatus(data []byte) (*Status, error) {
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("icecast: status: %w", err)
	}
	if !strings.HasPrefix(s.ServerID, "Icecast") {
		return nil, fmt.Errorf("icecast: status: unexpected server id %q", s.ServerID)
	}
	for i, m := range s.Mounts {
		if !strings.HasPrefix(m.Mount, "/") || m.Listeners < 0 {
			return nil, fmt.Errorf("icecast: status: bad mount entry %d: %+v", i, m)
		}
	}
	return &s, nil
}

// Mount returns the entry of the named mount.
func (s *Status) Mount(name string) (MountStat, bool) {
	for _, m := range s.Mounts {
		if m.Mount == name {
			return m, true
		}
	}
	return MountStat{}, false
}

// MountStatuses returns one autoradio.MountStatus per name, in the order
// given: listeners without relay connections, and whether a source is
// connected. A mount Icecast does not list has no source and no listeners.
func (s *Status) MountStatuses(names []string) []autoradio.MountStatus {
	out := make([]autoradio.MountStatus, 0, len(names))
	for _, name := range names {
		m, _ := s.Mount(name)
		out = append(out, autoradio.MountStatus{
			Name:            name,
			Listeners:       max(0, m.Listeners-m.Relays),
			SourceConnected: m.SourceConnected,
			BitrateKbps:     m.BitrateKbps,
			Title:           m.Title,
		})
	}
	return out
}

// relayUserAgentPrefix is how Icecast's relays introduce themselves
// ("Icecast 2.4.4").
const relayUserAgentPrefix = "Icecast "

type listClients struct {
	Sources []struct {
		Mount     string `xml:"mount,attr"`
		Listeners []struct {
			UserAgent string `xml:"UserAgent"`
		} `xml:"listener"`
	} `xml:"source"`
}

// ParseListClients counts the relay connections in the answer of
// /admin/listclients?mount=M: listeners whose user agent is Icecast's own.
func ParseListClients(data []byte) (relays int, err error) {
	var lc listClients
	if err := xml.Unmarshal(data, &lc); err != nil {
		return 0, fmt.Errorf("icecast: listclients: %w", err)
	}
	if len(lc.Sources) != 1 {
		return 0, fmt.Errorf("icecast: listclients: %d sources in the answer, want 1", len(lc.Sources))
	}
	for _, l := range lc.Sources[0].Listeners {
		if strings.HasPrefix(l.UserAgent, relayUserAgentPrefix) {
			relays++
		}
	}
	return relays, nil
}
