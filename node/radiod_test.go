package node_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	"autoradio/internal/etcdtest"
	"autoradio/internal/testenv"
	"autoradio/node/icecast"
)

// These tests run the real radiod binary, each node on its own loopback
// address with the same Icecast port, against a real etcd, and push audio
// with ffmpeg through the Icecast servers radiod runs.

const sessionTTL = 3 * time.Second

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	os.Exit(code)
}

type radiod struct {
	t        *testing.T
	name, ip string
	port     int
	etcdURL  string
	stateDir string
	proc     *testenv.Proc
}

func requireRadiod(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts radiod, icecast2 and ffmpeg")
	}
	testenv.RequireRoot(t)
	testenv.RequireBinaries(t, "icecast2", "ffmpeg")
}

// stateDir returns a directory that the icecast2 user can traverse.
func stateDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "radiod-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// freePort finds a TCP port free on all the given addresses.
func freePort(t *testing.T, ips ...string) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		free := true
		for _, ip := range ips[1:] {
			l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

func startRadiod(t *testing.T, etcdURL, name, ip string, port int) *radiod {
	t.Helper()
	r := &radiod{t: t, name: name, ip: ip, port: port, etcdURL: etcdURL, stateDir: stateDir(t)}
	r.start()
	return r
}

func (r *radiod) start() {
	r.t.Helper()
	r.proc = testenv.Start(r.t, testenv.Binary(r.t, "radiod"),
		"--name", r.name, "--ip", r.ip, "--icecast-port", strconv.Itoa(r.port),
		"--etcd-urls", r.etcdURL, "--state-dir", r.stateDir, "--session-ttl", sessionTTL.String(),
		"--monitor-addr", "", "--interface", "lo", "--log-level", "info")
	// Icecast drops root and with it the parent-death signal: a radiod
	// killed by the test leaves it running.
	r.t.Cleanup(r.killIcecast)
}

func (r *radiod) url(path string) string {
	return "http://" + net.JoinHostPort(r.ip, strconv.Itoa(r.port)) + path
}

func (r *radiod) addr() string { return net.JoinHostPort(r.ip, strconv.Itoa(r.port)) }

// status reads the node's Icecast directly.
func (r *radiod) status() (*icecast.Status, error) {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(r.url(icecast.StatusPath))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	buf := new(strings.Builder)
	if _, err := bufio.NewReader(resp.Body).WriteTo(buf); err != nil {
		return nil, err
	}
	return icecast.ParseStatus([]byte(buf.String()))
}

// waitSource waits until the node's Icecast has a live source for mount.
func (r *radiod) waitSource(timeout time.Duration, mount string) time.Duration {
	r.t.Helper()
	start := time.Now()
	testenv.Eventually(r.t, timeout, func() error {
		st, err := r.status()
		if err != nil {
			return err
		}
		if ms, ok := st.Mount(mount); !ok || !ms.SourceConnected {
			return fmt.Errorf("%s: no source for %s", r.name, mount)
		}
		return nil
	})
	return time.Since(start)
}

// icecastPID finds the Icecast that radiod started, by its config path.
func (r *radiod) icecastPID() int {
	cfg := filepath.Join(r.stateDir, "icecast.xml")
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 2 && strings.HasSuffix(args[0], "icecast2") && args[2] == cfg {
			return pid
		}
	}
	return 0
}

// killIcecast kills the node's Icecast, if it runs.
func (r *radiod) killIcecast() {
	if pid := r.icecastPID(); pid != 0 {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// sourceStatus connects as a legacy SOURCE client and returns Icecast's
// status code.
func sourceStatus(addr, mount, user, pass string) (int, error) {
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

func sourceURL(r *radiod, m *autoradio.Mount) string {
	return "http://" + m.Username + ":" + m.Password + "@" + r.addr() + m.Name
}

func newMount(t *testing.T, name string) *autoradio.Mount {
	user, pass, err := autoradio.NewSourceCredentials()
	if err != nil {
		t.Fatal(err)
	}
	return &autoradio.Mount{Name: name, Username: user, Password: pass}
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// master waits for an elected master and returns it among nodes.
func master(t *testing.T, c *autoradio.Client, timeout time.Duration, nodes ...*radiod) *radiod {
	t.Helper()
	var found *radiod
	testenv.Eventually(t, timeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		m, err := c.Master(ctx)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if n.name == m.Name && n.proc != nil {
				found = n
				return nil
			}
		}
		return fmt.Errorf("master is %s", m.Name)
	})
	return found
}

func decodeCapture(t *testing.T, ctx context.Context, url string, d time.Duration) {
	t.Helper()
	data, err := audiotest.Capture(ctx, url, d)
	if err != nil {
		t.Fatalf("listening to %s: %v", url, err)
	}
	if err := audiotest.Decode(ctx, data, d/2); err != nil {
		t.Fatalf("capture of %s: %v", url, err)
	}
}

func TestSingleNode(t *testing.T) {
	requireRadiod(t)
	ctx := testContext(t, 90*time.Second)
	etcd := etcdtest.Start(t)
	c := autoradio.NewClient(etcd.Client(), nil)
	n1 := startRadiod(t, etcd.URL(), "n1", "127.0.0.11", freePort(t, "127.0.0.11"))
	master(t, c, 10*time.Second, n1)
	testenv.Eventually(t, 10*time.Second, func() error { _, err := n1.status(); return err })

	m := newMount(t, "/live.ogg")
	created := time.Now()
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	// The source, retrying like real ones, is accepted within 2 s; a wrong
	// password is refused.
	audiotest.Source(t, sourceURL(n1, m))
	n1.waitSource(2*time.Second, m.Name)
	t.Logf("create-mount to source accepted: %v", time.Since(created).Round(time.Millisecond))
	if code, err := sourceStatus(n1.addr(), m.Name, m.Username, "wrong"); err != nil || code != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, %v; want 401", code, err)
	}
	decodeCapture(t, ctx, n1.url(m.Name), 4*time.Second)

	// A deleted mount is gone within 2 s: its source is disconnected and
	// listeners get 404.
	if err := c.DeleteMount(ctx, m.Name); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 2*time.Second, func() error {
		resp, err := http.Get(n1.url(m.Name))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			return fmt.Errorf("deleted mount: status %d", resp.StatusCode)
		}
		return nil
	})
}

func TestIcecastCrashIsRestarted(t *testing.T) {
	requireRadiod(t)
	ctx := testContext(t, 60*time.Second)
	etcd := etcdtest.Start(t)
	c := autoradio.NewClient(etcd.Client(), nil)
	n1 := startRadiod(t, etcd.URL(), "n1", "127.0.0.11", freePort(t, "127.0.0.11"))
	master(t, c, 10*time.Second, n1)
	m := newMount(t, "/crash.ogg")
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if n1.icecastPID() == 0 {
			return fmt.Errorf("icecast not running")
		}
		_, err := n1.status()
		return err
	})
	old := n1.icecastPID()
	syscall.Kill(old, syscall.SIGKILL)
	killed := time.Now()
	testenv.Eventually(t, 10*time.Second, func() error {
		if pid := n1.icecastPID(); pid == 0 || pid == old {
			return fmt.Errorf("icecast not restarted")
		}
		_, err := n1.status()
		return err
	})
	t.Logf("icecast answering again %v after kill -9", time.Since(killed).Round(time.Millisecond))
	audiotest.Source(t, sourceURL(n1, m))
	n1.waitSource(5*time.Second, m.Name)
	decodeCapture(t, ctx, n1.url(m.Name), 3*time.Second)
}

func TestCorruptRecordIsSkipped(t *testing.T) {
	requireRadiod(t)
	ctx := testContext(t, 60*time.Second)
	etcd := etcdtest.Start(t)
	cli := etcd.Client()
	c := autoradio.NewClient(cli, nil)
	if _, err := cli.Put(ctx, autoradio.MountKey("/broken.ogg"), "{not json"); err != nil {
		t.Fatal(err)
	}
	n1 := startRadiod(t, etcd.URL(), "n1", "127.0.0.11", freePort(t, "127.0.0.11"))
	master(t, c, 10*time.Second, n1)
	m := newMount(t, "/good.ogg")
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, autoradio.MountKey("/broken2.ogg"), `{"name":"/other.ogg"}`); err != nil {
		t.Fatal(err)
	}
	audiotest.Source(t, sourceURL(n1, m))
	n1.waitSource(5*time.Second, m.Name)
	decodeCapture(t, ctx, n1.url(m.Name), 3*time.Second)
	if !strings.Contains(n1.proc.Output(), "/broken.ogg") {
		t.Error("the corrupt record was not logged")
	}
	select {
	case <-n1.proc.Done():
		t.Fatal("radiod exited")
	default:
	}
}
