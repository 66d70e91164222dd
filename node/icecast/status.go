package icecast

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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
	// At is when radiod read it.
	At time.Time `json:"-"`
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

// ErrUnreadableStatus is wrapped by the errors of ParseStatus: Icecast
// answered, but not with the status the stylesheet should make. It tells
// a bad answer from an Icecast that does not answer.
var ErrUnreadableStatus = errors.New("unreadable status")

// ParseStatus parses the JSON served at StatusPath.
//
// Titles are whatever sources send. The stylesheet escapes quotes and
// backslashes and turns tabs and line breaks into spaces, but XSLT 1.0
// cannot name the other control characters, which Icecast passes on raw
// and JSON forbids in a string: ParseStatus turns them into spaces, so
// that no title can make the status unreadable. encoding/json replaces
// invalid UTF-8 with U+FFFD. Other characters come as they are, since
// every mount keeps its titles in UTF-8 (titleCharset): a character
// reference in a title is the source's own text, and stays so.
func ParseStatus(data []byte) (*Status, error) {
	var s Status
	if err := json.Unmarshal(blankControls(data), &s); err != nil {
		return nil, fmt.Errorf("icecast: status: %w: %w", ErrUnreadableStatus, err)
	}
	if !strings.HasPrefix(s.ServerID, "Icecast") {
		return nil, fmt.Errorf("icecast: status: %w: unexpected server id %q", ErrUnreadableStatus, s.ServerID)
	}
	for i, m := range s.Mounts {
		if !strings.HasPrefix(m.Mount, "/") || m.Listeners < 0 {
			return nil, fmt.Errorf("icecast: status: %w: bad mount entry %d: %+v", ErrUnreadableStatus, i, m)
		}
	}
	return &s, nil
}

// blankControls returns data with every ASCII control character turned
// into a space, copied only when it has one other than a line feed. The
// stylesheet writes no control character of its own but the final line
// feed, which is white space to JSON either way.
func blankControls(data []byte) []byte {
	i := bytes.IndexFunc(data, func(r rune) bool { return r < ' ' && r != '\n' })
	if i < 0 {
		return data
	}
	out := bytes.Clone(data)
	for j := i; j < len(out); j++ {
		if out[j] < ' ' {
			out[j] = ' '
		}
	}
	return out
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
