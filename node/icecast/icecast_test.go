package icecast

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"autoradio"
)

// This file runs the real icecast2 and ffmpeg: a master on 127.0.0.1 and a
// relay node on 127.0.0.2, both with configs from Render.

const testMount = "/test.ogg"

func requireBinaries(t *testing.T, names ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts icecast2 and ffmpeg")
	}
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required in CI: %v", n, err)
			}
			t.Skipf("%s not installed", n)
		}
	}
}

// testNode is one running Icecast.
type testNode struct {
	ip     string
	port   int
	params Params
	stderr *syncBuffer
	status *StatusClient
}

func (n *testNode) url(path string) string {
	return "http://" + net.JoinHostPort(n.ip, strconv.Itoa(n.port)) + path
}

// freePort returns a TCP port that is free on every ip.
func freePort(t *testing.T, ips ...string) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", ips[0]+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		ok := true
		for _, ip := range ips[1:] {
			l2, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
			if err != nil {
				ok = false
				break
			}
			l2.Close()
		}
		l.Close()
		if ok {
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// sharedDir returns a temporary directory that the icecast2 user can read.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// startIcecast renders p (master or relay) and runs icecast2 with it in
// its own process group, killed when the test ends. It waits until the
// status stylesheet answers.
func startIcecast(ctx context.Context, t *testing.T, p Params, webroot string) *testNode {
	t.Helper()
	p.BaseDir = filepath.Join(sharedDir(t), "state")
	p.WebRoot = webroot
	if err := os.Mkdir(p.BaseDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		p.User, p.Group = "icecast2", "icecast"
		chownTo(t, p.BaseDir, p.User, p.Group)
	}
	cfg, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(filepath.Dir(p.BaseDir), "icecast.xml")
	if err := os.WriteFile(cfgFile, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	n := &testNode{ip: p.ListenIPs[0], port: p.Port, params: p, stderr: &syncBuffer{}}
	n.status = &StatusClient{URL: n.url(""), AdminPassword: p.AdminPassword, ExcludeRelays: p.IsMaster}
	startProcess(t, n.stderr, "icecast2", "-c", cfgFile)
	waitFor(ctx, t, "icecast "+n.ip+" answers", func() bool {
		_, err := n.status.Fetch(ctx)
		return err == nil
	})
	return n
}

func chownTo(t *testing.T, dir, userName, groupName string) {
	t.Helper()
	u, err := user.Lookup(userName)
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroup(groupName)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
}

// startProcess runs a command in its own process group and returns a
// function that kills the group (SIGTERM, then SIGKILL after 5 s) and
// waits; it also runs at cleanup.
func startProcess(t *testing.T, stderr io.Writer, name string, args ...string) (stop func()) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// startSource pushes a sine tone to the master with ffmpeg.
func startSource(t *testing.T, master *testNode, user, pass string) (stop func()) {
	t.Helper()
	target := fmt.Sprintf("icecast://%s:%s@%s:%d%s", user, pass, master.ip, master.port, testMount)
	return startProcess(t, io.Discard, "ffmpeg", "-nostdin", "-v", "error", "-re",
		"-f", "lavfi", "-i", "sine=frequency=440", "-c:a", "libvorbis",
		"-content_type", "application/ogg", "-f", "ogg", target)
}

func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting until %s", what)
		case <-tick.C:
		}
	}
	return time.Since(start)
}

// capture reads a stream for d into a file and checks that ffmpeg decodes
// it without a single error.
func capture(ctx context.Context, t *testing.T, url string, d time.Duration) {
	t.Helper()
	readCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	req, _ := http.NewRequestWithContext(readCtx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, resp.Body); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("reading %s: %v", url, err)
	}
	file := filepath.Join(t.TempDir(), "capture.ogg")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-i", file, "-f", "null", "-").CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("capture of %s (%d bytes) does not decode: %v %s", url, buf.Len(), err, out)
	}
	if buf.Len() < 4000 {
		t.Fatalf("capture of %s holds only %d bytes", url, buf.Len())
	}
}

// listener stays connected to a stream and counts the bytes it receives.
type listener struct {
	bytes  atomic.Int64
	cancel context.CancelFunc
	done   chan error
}

func listen(ctx context.Context, url string) *listener {
	ctx, cancel := context.WithCancel(ctx)
	l := &listener{cancel: cancel, done: make(chan error, 1)}
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			l.done <- err
			return
		}
		defer resp.Body.Close()
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			l.bytes.Add(int64(n))
			if err != nil {
				l.done <- err
				return
			}
		}
	}()
	return l
}

func (l *listener) stop() { l.cancel(); <-l.done }

func TestIcecastMasterAndRelay(t *testing.T) {
	requireBinaries(t, "icecast2", "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	webroot := filepath.Join(sharedDir(t), "web")
	if err := InstallWebroot(ctx, webroot); err != nil {
		t.Fatal(err)
	}
	port := freePort(t, "127.0.0.1", "127.0.0.2")
	mount := &autoradio.Mount{Name: testMount, Username: "sourceuser", Password: "sourcepass"}
	common := Params{NodeName: "node1", Port: port, MaxListeners: 10, RelayNodes: 1,
		Mounts: []*autoradio.Mount{mount}, AdminPassword: "adminpass", RelayPassword: "relaypass"}

	mp := common
	mp.IsMaster, mp.ListenIPs = true, []string{"127.0.0.1"}
	master := startIcecast(ctx, t, mp, webroot)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("master icecast log:\n%s", master.stderr)
		}
	})

	t.Run("wrong password is refused", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, master.url(testMount), bytes.NewReader(nil))
		req.SetBasicAuth("sourceuser", "wrong")
		req.Header.Set("Content-Type", "application/ogg")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("PUT with a wrong password: %s, want 401", resp.Status)
		}
	})

	stopSource := startSource(t, master, mount.Username, mount.Password)
	connected := func(n *testNode) func() bool {
		return func() bool {
			st, err := n.status.Fetch(ctx)
			if err != nil {
				return false
			}
			m, _ := st.Mount(testMount)
			return m.SourceConnected
		}
	}
	d := waitFor(ctx, t, "the source is on the master", connected(master))
	t.Logf("ffmpeg source connected after %v", d.Round(10*time.Millisecond))

	rp := common
	rp.ListenIPs = []string{"127.0.0.2"}
	rp.MasterIP, rp.MasterPort = "127.0.0.1", port
	start := time.Now()
	relay := startIcecast(ctx, t, rp, webroot)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("relay icecast log:\n%s", relay.stderr)
		}
	})
	waitFor(ctx, t, "the relay node has the mount", connected(relay))
	t.Logf("relay node: first audio %v after icecast2 started", time.Since(start).Round(10*time.Millisecond))

	t.Run("master listener decodes and is counted without the relay", func(t *testing.T) {
		l := listen(ctx, master.url(testMount))
		defer l.stop()
		waitFor(ctx, t, "the master sees the listener and the relay", func() bool {
			st, err := master.status.Fetch(ctx)
			if err != nil {
				return false
			}
			m, _ := st.Mount(testMount)
			return m.Listeners == 2
		})
		st, err := master.status.Fetch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := st.MountStatuses([]string{testMount})[0]
		if got.Listeners != 1 || !got.SourceConnected || got.BitrateKbps == 0 {
			t.Errorf("master status %+v: want 1 listener (the relay excluded), a source and a bitrate", got)
		}
		capture(ctx, t, master.url(testMount), 3*time.Second)
	})

	t.Run("relay listener decodes", func(t *testing.T) {
		capture(ctx, t, relay.url(testMount), 3*time.Second)
	})

	t.Run("relay listener survives the loss of the source", func(t *testing.T) {
		l := listen(ctx, relay.url(testMount))
		defer l.stop()
		waitFor(ctx, t, "the relay listener receives audio", func() bool { return l.bytes.Load() > 0 })
		stopSource()
		// The master moves its listeners, the relay connection among
		// them, to its silence fallback: the relay node keeps its source
		// and its listener keeps receiving.
		lost := time.Now()
		before := l.bytes.Load()
		waitFor(ctx, t, "the relay listener receives the fallback", func() bool { return l.bytes.Load() > before+32<<10 })
		t.Logf("fallback: %d KiB in %v after the source left", (l.bytes.Load()-before)>>10, time.Since(lost).Round(10*time.Millisecond))

		startSource(t, master, mount.Username, mount.Password)
		back := time.Now()
		waitFor(ctx, t, "the source is back on the master", connected(master))
		t.Logf("master live again %v after the source restarted", time.Since(back).Round(10*time.Millisecond))
		select {
		case err := <-l.done:
			t.Fatalf("the relay listener was disconnected: %v", err)
		default:
		}
		d := waitFor(ctx, t, "the listener is back on the live mount", func() bool {
			st, err := relay.status.Fetch(ctx)
			return err == nil && st.MountStatuses([]string{testMount})[0].Listeners == 1
		})
		t.Logf("relay listener counted on the live mount again %v later", d.Round(10*time.Millisecond))
		select {
		case err := <-l.done:
			t.Fatalf("the relay listener was disconnected: %v", err)
		default:
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a process writing while a test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
