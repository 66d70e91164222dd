package nscluster

import (
	"strings"
	"testing"

	"autoradio"
	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// sourceMarker is what the source loop prints before each connection.
const sourceMarker = "source: connecting"

// Source is a source client in the clients namespace: ffmpeg pushing a
// tone to http://stream.radio.test/<mount> (ffmpeg's icecast protocol, a
// PUT, which the front-end relays to the master), resolved with the
// cluster's DNS. Like real sources it connects again, a fifth of a
// second after each failure.
type Source struct {
	Proc *testenv.Proc
}

// StartSource starts a source for mount m, pushing to
// http://stream.radio.test/<mount>: the cluster's DNS picks the front-end.
func (c *Cluster) StartSource(t testing.TB, m *autoradio.Mount) *Source {
	t.Helper()
	return c.startSource(t, m, StreamHost)
}

// StartSourceVia starts a source for mount m that pushes through the
// front-end of host h, whoever is master.
func (c *Cluster) StartSourceVia(t testing.TB, m *autoradio.Mount, h *Host) *Source {
	t.Helper()
	return c.startSource(t, m, h.IP)
}

func (c *Cluster) startSource(t testing.TB, m *autoradio.Mount, host string) *Source {
	t.Helper()
	target := "icecast://" + m.Username + ":" + m.Password + "@" + host + ":80" + m.Name
	args := append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, audiotest.EncodeArgs(m.Name)...)
	// Real sources give up on a connection that stops moving; without a
	// timeout, ffmpeg would wait for TCP to give up on a host cut off the
	// network, many minutes.
	args = append(args, "-rw_timeout", "5000000", target)
	script := `while :; do echo "` + sourceMarker + `"; ffmpeg "$@"; sleep 0.2; done`
	cmd := Command(ClientsNS, "sh", append([]string{"-c", script, "source"}, args...)...)
	return &Source{Proc: testenv.StartCmd(t, cmd)}
}

// Connections is how many times the source connected, or tried to.
func (s *Source) Connections() int {
	return strings.Count(s.Proc.Output(), sourceMarker)
}
