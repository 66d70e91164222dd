// Package clustertest runs autoradio nodes for tests: the real radiod and
// redirectord binaries, each node on its own loopback address with the
// same ports, against an etcd the test provides.
package clustertest

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/testenv"
	"autoradio/node/icecast"
)

// SessionTTL is the nodes' --session-ttl: short, so that tests of
// failures are fast.
const SessionTTL = 3 * time.Second

// Require skips (or, in CI, fails) a test that needs the real programs.
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts radiod, icecast2 and ffmpeg")
	}
	testenv.RequireRoot(t)
	testenv.RequireBinaries(t, "icecast2", "ffmpeg")
}

// FreePort finds a port free for TCP and UDP on every given address; see
// testenv.FreePort.
func FreePort(t testing.TB, ips ...string) int {
	t.Helper()
	return testenv.FreePort(t, ips...)
}

// Radiod is a radiod process and the Icecast it runs.
type Radiod struct {
	t        testing.TB
	Name, IP string
	Port     int
	EtcdURL  string
	StateDir string
	Proc     *testenv.Proc
	// Extra are more radiod arguments.
	Extra []string
}

// StartRadiod runs radiod for node name on ip, Icecast on port, with
// extra arguments.
func StartRadiod(t testing.TB, etcdURL, name, ip string, port int, extra ...string) *Radiod {
	t.Helper()
	r := NewRadiod(t, etcdURL, name, ip, port, extra...)
	r.Start()
	return r
}

// NewRadiod is StartRadiod without the start: a test may change the
// Radiod (its StateDir, say) before it calls Start.
func NewRadiod(t testing.TB, etcdURL, name, ip string, port int, extra ...string) *Radiod {
	t.Helper()
	dir, err := os.MkdirTemp("", "radiod-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) // Icecast, once it dropped root, must traverse it
	t.Cleanup(func() { os.RemoveAll(dir) })
	return &Radiod{t: t, Name: name, IP: ip, Port: port, EtcdURL: etcdURL, StateDir: dir, Extra: extra}
}

// Start (re)starts the radiod process.
func (r *Radiod) Start() {
	r.t.Helper()
	args := append([]string{"--name", r.Name, "--ip", r.IP, "--icecast-port", strconv.Itoa(r.Port),
		"--etcd-urls", r.EtcdURL, "--state-dir", r.StateDir, "--session-ttl", SessionTTL.String(),
		"--monitor-addr", "", "--interface", "lo", "--http-addr", ""}, r.Extra...)
	r.Proc = testenv.Start(r.t, testenv.Binary(r.t, "radiod"), args...)
	// Icecast drops root and with it the parent-death signal: a radiod
	// killed by the test leaves it running. Transcoders are killed too in
	// case a test stopped radiod before it could stop them.
	r.t.Cleanup(func() { r.KillIcecast(); r.KillLiquidsoap() })
}

// Addr is host:port of the node's Icecast.
func (r *Radiod) Addr() string { return net.JoinHostPort(r.IP, strconv.Itoa(r.Port)) }

// URL of path on the node's Icecast.
func (r *Radiod) URL(path string) string { return "http://" + r.Addr() + path }

// Status reads the node's Icecast status directly.
func (r *Radiod) Status() (*icecast.Status, error) {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(r.URL(icecast.StatusPath))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return icecast.ParseStatus(data)
}

// WaitSource waits until the node's Icecast has a live source for mount.
func (r *Radiod) WaitSource(timeout time.Duration, mount string) time.Duration {
	r.t.Helper()
	start := time.Now()
	testenv.Eventually(r.t, timeout, func() error {
		st, err := r.Status()
		if err != nil {
			return err
		}
		if ms, ok := st.Mount(mount); !ok || !ms.SourceConnected {
			return fmt.Errorf("%s: no source for %s", r.Name, mount)
		}
		return nil
	})
	return time.Since(start)
}

// IcecastPID finds the node's Icecast by its config path; 0 if none.
func (r *Radiod) IcecastPID() int {
	cfg := filepath.Join(r.StateDir, "icecast.xml")
	pids := pidsOf(func(args []string) bool {
		return len(args) > 2 && strings.HasSuffix(args[0], "icecast2") && args[2] == cfg
	})
	if len(pids) == 0 {
		return 0
	}
	return pids[0]
}

// LiquidsoapPIDs finds the transcoders the node's radiod started, by the
// directory of their scripts.
func (r *Radiod) LiquidsoapPIDs() []int {
	dir := filepath.Join(r.StateDir, "transcode") + "/"
	return pidsOf(func(args []string) bool {
		return len(args) > 1 && strings.HasSuffix(args[0], "liquidsoap") && strings.HasPrefix(args[1], dir)
	})
}

// pidsOf lists the processes whose command line matches.
func pidsOf(match func(args []string) bool) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if match(strings.Split(string(cmdline), "\x00")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// KillIcecast kills the node's Icecast, if it runs.
func (r *Radiod) KillIcecast() {
	if pid := r.IcecastPID(); pid != 0 {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// KillLiquidsoap kills the transcoders the node's radiod started.
func (r *Radiod) KillLiquidsoap() {
	for _, pid := range r.LiquidsoapPIDs() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// KillHost kills radiod and every process it started, as if the node's
// host died.
func (r *Radiod) KillHost() {
	r.Proc.Kill()
	r.KillIcecast()
	r.KillLiquidsoap()
}

// Redirectord is a redirectord process.
type Redirectord struct {
	Name, IP          string
	HTTPPort, DNSPort int
	Proc              *testenv.Proc
}

// StartRedirectord runs redirectord for node name on ip, for the domain
// radio.test, and waits until it answers HTTP.
func StartRedirectord(t testing.TB, etcdURL, name, ip string, icecastPort, httpPort, dnsPort int, extra ...string) *Redirectord {
	t.Helper()
	r := &Redirectord{Name: name, IP: ip, HTTPPort: httpPort, DNSPort: dnsPort}
	args := append([]string{"--name", name, "--ip", ip, "--domain", "radio.test",
		"--icecast-port", strconv.Itoa(icecastPort),
		"--http-addr", net.JoinHostPort(ip, strconv.Itoa(httpPort)),
		"--dns-addr", net.JoinHostPort(ip, strconv.Itoa(dnsPort)),
		"--etcd-urls", etcdURL, "--monitor-addr", ""}, extra...)
	r.Proc = testenv.Start(t, testenv.Binary(t, "redirectord"), args...)
	testenv.Eventually(t, 10*time.Second, func() error {
		c := http.Client{Timeout: time.Second}
		resp, err := c.Get(r.URL("/_status.json"))
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	return r
}

// URL of path on the front-end.
func (r *Redirectord) URL(path string) string {
	return "http://" + net.JoinHostPort(r.IP, strconv.Itoa(r.HTTPPort)) + path
}

// SourceURL is the URL a source uses to push mount m to addr.
func SourceURL(addr string, m *autoradio.Mount) string {
	return "http://" + m.Username + ":" + m.Password + "@" + addr + m.Name
}

// NewMount returns a mount with fresh credentials.
func NewMount(t testing.TB, name string) *autoradio.Mount {
	t.Helper()
	user, pass, err := autoradio.NewSourceCredentials()
	if err != nil {
		t.Fatal(err)
	}
	return &autoradio.Mount{Name: name, Username: user, Password: pass}
}

// SourceStatus connects as a legacy SOURCE client and returns the status
// code of the answer.
func SourceStatus(addr, mount, user, pass string) (int, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	fmt.Fprintf(conn, "SOURCE %s HTTP/1.0\r\nAuthorization: Basic %s\r\nContent-Type: application/ogg\r\n\r\n", mount, auth)
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return 0, err
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	return strconv.Atoi(f[1])
}

// Master waits for an elected master among nodes and returns it.
func Master(t testing.TB, c *autoradio.Client, timeout time.Duration, nodes ...*Radiod) *Radiod {
	t.Helper()
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return nodes[slices.Index(names, WaitMaster(t, c, timeout, names...))]
}

// WaitMaster waits until the elected master is one of the nodes named
// and returns its name.
func WaitMaster(t testing.TB, c *autoradio.Client, timeout time.Duration, names ...string) string {
	t.Helper()
	var found string
	testenv.Eventually(t, timeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		m, err := c.Master(ctx)
		if err != nil {
			return err
		}
		if !slices.Contains(names, m.Name) {
			return fmt.Errorf("master is %s", m.Name)
		}
		found = m.Name
		return nil
	})
	return found
}

// WaitNodesUp waits until n nodes publish a working Icecast.
func WaitNodesUp(t testing.TB, c *autoradio.Client, n int, timeout time.Duration) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		nodes, err := c.ListNodes(ctx)
		if err != nil {
			return err
		}
		up := 0
		for _, st := range nodes {
			if st.IcecastOK {
				up++
			}
		}
		if up < n {
			return fmt.Errorf("%d of %d nodes up", up, n)
		}
		return nil
	})
}
