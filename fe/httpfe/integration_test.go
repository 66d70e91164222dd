package httpfe

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"autoradio"
	"autoradio/internal/testenv"
)

// liveEnv is a real Icecast (the master and the local Icecast of a
// one-node cluster) behind a front-end Server.
type liveEnv struct {
	ic      *icecast
	fe      string // front-end host:port
	reg     *prometheus.Registry
	cluster *fakeCluster
}

func startLive(t *testing.T, cfg Config, mounts ...string) *liveEnv {
	t.Helper()
	return startLiveLog(t, cfg, quietLog, mounts...)
}

// startLiveLog is startLive with the front-end's logger.
func startLiveLog(t *testing.T, cfg Config, log *slog.Logger, mounts ...string) *liveEnv {
	t.Helper()
	ic := startIcecast(t, 500, mounts...)
	c := newFakeCluster()
	for _, m := range mounts {
		c.mounts[m] = &autoradio.Mount{Name: m, Username: srcUser, Password: srcPass}
	}
	c.setNodes(&autoradio.NodeStatus{Name: "n1", IPs: []string{"127.0.0.1"}, IcecastPort: ic.port, IcecastOK: true, IsMaster: true})
	c.setMaster(&autoradio.MasterInfo{Name: "n1", IPs: []string{"127.0.0.1"}, IcecastPort: ic.port})
	cfg.LocalIcecast = ic.addr
	s, reg := startServerLog(t, cfg, c, log)
	return &liveEnv{ic: ic, fe: s.Addr().String(), reg: reg, cluster: c}
}

// testSignal returns ffmpeg arguments for a live (-re) Ogg Vorbis stream of
// about 110 kbit/s, a sine over pink noise (a pure sine gives ~20 kbit/s),
// in Ogg pages of 0.2 s (ffmpeg's default is 1 s), so that data flows
// several times a second as it would with a real station; the output
// (URL or "-") goes last.
func testSignal(freq int) []string {
	graph := fmt.Sprintf("sine=frequency=%d[s];anoisesrc=color=pink:amplitude=0.1[n];"+
		"[s][n]amix=inputs=2,aformat=channel_layouts=stereo[out0]", freq)
	return []string{"-re", "-f", "lavfi", "-i", graph, "-t", "600", "-c:a", "libvorbis", "-q:a", "5",
		"-f", "ogg", "-page_duration", "200000"}
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestLive runs the front-end against a real Icecast with real ffmpeg
// sources and listeners. The subtests share one Icecast and run in order.
func TestLive(t *testing.T) {
	env := startLive(t, Config{StreamGrace: 500 * time.Millisecond}, "/live.ogg", "/legacy.ogg", "/other.ogg", "/idle.ogg", "/moved.ogg")
	ctx := testenv.Context(t, 90*time.Second)

	// ffmpeg's icecast protocol sends PUT with Expect: 100-continue.
	startFFmpeg(t, nil, append(testSignal(440), "-content_type", "application/ogg",
		fmt.Sprintf("icecast://%s:%s@%s/live.ogg", srcUser, srcPass, env.fe))...)
	env.ic.waitSource(ctx, t, "/live.ogg")
	if v := metricValue(t, env.reg, "autoradio_source_connections_total", "result", "accepted"); v != 1 {
		t.Errorf("accepted source connections = %v, want 1", v)
	}
	if v := metricValue(t, env.reg, "autoradio_proxied_sources"); v != 1 {
		t.Errorf("active sources = %v, want 1", v)
	}

	t.Run("listener via redirect decodes", func(t *testing.T) {
		env.captureDecodes(ctx, t, "/live.ogg")
	})
	t.Run("legacy SOURCE with bytes after the headers", func(t *testing.T) {
		env.legacySource(ctx, t, "/legacy.ogg")
		env.ic.waitSource(ctx, t, "/legacy.ogg")
		env.captureDecodes(ctx, t, "/legacy.ogg")
	})
	t.Run("bad source password gets 401", func(t *testing.T) {
		code, _ := env.sourceFrom(ctx, t, net.ParseIP("127.0.0.1"), "/other.ogg", basicAuth(srcUser, "wrong"))
		if code != http.StatusUnauthorized {
			t.Errorf("code %d, want 401", code)
		}
		if v := metricValue(t, env.reg, "autoradio_source_connections_total", "result", "rejected"); v != 1 {
			t.Errorf("rejected source connections = %v, want 1", v)
		}
	})
	t.Run("listener that leaves frees its upstream", func(t *testing.T) {
		env.listenerLeaves(ctx, t, "/live.ogg")
	})
	t.Run("shutdown closes forwarded sources", func(t *testing.T) {
		env.shutdownClosesSource(ctx, t, "/other.ogg")
	})
	t.Run("a source forwarded to a deposed master is disconnected", func(t *testing.T) {
		env.deposedMasterDropsSource(ctx, t, "/moved.ogg")
	})
	t.Run("silent source is dropped after SourceIdleTimeout", func(t *testing.T) {
		env.idleSourceDropped(ctx, t, "/idle.ogg")
	})
	t.Run("memory per proxied stream", func(t *testing.T) {
		env.measureStreamMemory(ctx, t, "/live.ogg", 100)
	})
}

// testClient returns a client that does not reuse connections.
func testClient(t testing.TB) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// captureDecodes listens to mount through the front-end (GET /<mount>,
// following the redirect to /_stream/) for 3 s and checks that the capture
// decodes without errors.
func (env *liveEnv) captureDecodes(ctx context.Context, t *testing.T, mount string) {
	rctx, stop := context.WithTimeout(ctx, 3*time.Second)
	defer stop()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+env.fe+mount, nil)
	resp, err := testClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/_stream"+mount {
		t.Fatalf("%s: %d at %s", mount, resp.StatusCode, resp.Request.URL)
	}
	if ct, cors := resp.Header.Get("Content-Type"), resp.Header.Get("Access-Control-Allow-Origin"); ct != "application/ogg" || cors != "*" {
		t.Errorf("Content-Type %q, Access-Control-Allow-Origin %q", ct, cors)
	}
	path := filepath.Join(t.TempDir(), "capture.ogg")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(f, resp.Body) // ends when rctx expires
	f.Close()
	if n < 2_000 {
		t.Fatalf("captured only %d bytes in 3s", n)
	}
	if errs := decodeErrors(ctx, t, path); errs != "" {
		t.Errorf("capture of %d bytes does not decode cleanly:\n%s", n, errs)
	}
	t.Logf("%s: captured %d bytes in 3s, decodes cleanly", mount, n)
}

// legacySource streams ffmpeg's Ogg output to mount with a hand-written
// SOURCE request whose first audio bytes share a write with the headers,
// so that they reach the server in the same read.
func (env *liveEnv) legacySource(ctx context.Context, t *testing.T, mount string) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close() })
	startFFmpeg(t, pw, append(testSignal(880), "-")...)
	pw.Close()
	pr.SetReadDeadline(time.Now().Add(10 * time.Second))
	first := make([]byte, 16<<10)
	n, err := pr.Read(first)
	if err != nil {
		t.Fatalf("reading ffmpeg's first bytes: %v", err)
	}
	pr.SetReadDeadline(time.Time{})
	conn := dialFE(t, env.fe)
	head := "SOURCE " + mount + " HTTP/1.0\r\nAuthorization: " + basicAuth(srcUser, srcPass) +
		"\r\nContent-Type: application/ogg\r\nice-name: legacy test\r\nUser-Agent: handmade/1.0\r\n\r\n"
	if _, err := conn.Write(append([]byte(head), first[:n]...)); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, " 200 ") {
		t.Fatalf("SOURCE answer %q, %v", status, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); io.Copy(conn, pr) }()
	t.Cleanup(func() { conn.Close(); pr.Close(); wg.Wait() })
	t.Logf("SOURCE %s: %q with %d bytes after the headers", mount, strings.TrimSpace(status), n)
}

func dialFE(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// listenerLeaves checks that a listener that disconnects from /_stream/
// is gone within a second, and the mount's connection to Icecast after
// the grace period (500 ms in TestLive).
func (env *liveEnv) listenerLeaves(ctx context.Context, t *testing.T, mount string) {
	waitFor(ctx, t, "no listeners", func() bool { return env.ic.listeners(mount) == 0 })
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+env.fe+"/_stream"+mount, nil)
	resp, err := testClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "one listener", func() bool {
		return env.ic.listeners(mount) == 1 && metricValue(t, env.reg, "autoradio_proxied_streams") == 1
	})
	stop()
	resp.Body.Close()
	start := time.Now()
	dctx, dstop := context.WithTimeout(ctx, time.Second)
	defer dstop()
	waitFor(dctx, t, "the proxied stream to end", func() bool {
		return metricValue(t, env.reg, "autoradio_proxied_streams") == 0
	})
	gauge := time.Since(start)
	// Icecast notices a closed listener at its next write to it, and its
	// stats lag a little behind: allow it more than the grace period.
	ictx, istop := context.WithTimeout(ctx, 3*time.Second)
	defer istop()
	waitFor(ictx, t, "Icecast to drop the listener", func() bool { return env.ic.listeners(mount) == 0 })
	t.Logf("listener left: stream gauge 0 after %v, Icecast listeners 0 after %v", gauge, time.Since(start))
	if v := metricValue(t, env.reg, "autoradio_proxied_stream_bytes_total"); v < 4096 {
		t.Errorf("proxied bytes = %v, want at least 4096", v)
	}
}

// secondFE runs another front-end for mount against env's Icecast until
// stop is called; stop returns Run's error, or fails the test if Run does
// not return within 3 s.
func (env *liveEnv) secondFE(ctx context.Context, t *testing.T, cfg Config, mount string) (addr string, stop func() error, c *fakeCluster) {
	c = newFakeCluster(&autoradio.Mount{Name: mount, Username: srcUser, Password: srcPass})
	c.setMaster(&autoradio.MasterInfo{Name: "n1", IPs: []string{"127.0.0.1"}, IcecastPort: env.ic.port})
	cfg.Addr, cfg.Domain, cfg.LocalIcecast = "127.0.0.1:0", "radio.example.com", env.ic.addr
	s, err := New(cfg, c, prometheus.NewRegistry(), quietLog)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(3 * time.Second):
				t.Fatal("Run did not return within 3s of its context ending")
			}
		})
		return runErr
	}
	t.Cleanup(func() { stop() })
	return s.Addr().String(), stop, c
}

// startSource sends a legacy SOURCE request for mount to addr and returns
// the connection once Icecast's 200 has come back.
func startSource(t *testing.T, addr, mount string) (net.Conn, *bufio.Reader) {
	conn := dialFE(t, addr)
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "SOURCE %s HTTP/1.0\r\nAuthorization: %s\r\nContent-Type: application/ogg\r\n\r\n",
		mount, basicAuth(srcUser, srcPass))
	br := bufio.NewReader(conn)
	if status, err := br.ReadString('\n'); err != nil || !strings.Contains(status, " 200 ") {
		t.Fatalf("SOURCE answer %q, %v", status, err)
	}
	return conn, br
}

// idleSourceDropped checks that a source that sends nothing is cut off by
// the front-end after SourceIdleTimeout (Icecast's own limit is 10 s).
func (env *liveEnv) idleSourceDropped(ctx context.Context, t *testing.T, mount string) {
	const idle = 500 * time.Millisecond
	addr, _, _ := env.secondFE(ctx, t, Config{SourceIdleTimeout: idle}, mount)
	_, br := startSource(t, addr, mount)
	start := time.Now()
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("the idle source's connection ended with %v, want EOF", err)
	}
	// Not before its time, and by the front-end: Icecast's own limit,
	// which would also end it, is 10 s.
	if d := time.Since(start); d < idle-50*time.Millisecond || d >= 8*time.Second {
		t.Errorf("idle source dropped after %v, want after %v and before Icecast's 10 s", d, idle)
	} else {
		t.Logf("idle source dropped after %v", d)
	}
}

// shutdownClosesSource forwards a source through a second front-end, then
// stops that front-end: Run must return promptly and the source's
// connection must be closed.
func (env *liveEnv) shutdownClosesSource(ctx context.Context, t *testing.T, mount string) {
	addr, stop, _ := env.secondFE(ctx, t, Config{}, mount)
	_, br := startSource(t, addr, mount)
	start := time.Now()
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Errorf("the source connection ended with %v, want EOF", err)
	}
	t.Logf("shutdown with a forwarded source took %v", time.Since(start))
}

// deposedMasterDropsSource forwards a live source through a second
// front-end that does not move sources (SourceResume negative), then
// tells that front-end another node is master: it must disconnect the
// source, which would otherwise stay on the old master (when the old
// master is cut off, for as long as the kernel buffers).
func (env *liveEnv) deposedMasterDropsSource(ctx context.Context, t *testing.T, mount string) {
	addr, _, c := env.secondFE(ctx, t, Config{SourceResume: -1}, mount)
	conn, br := startSource(t, addr, mount)
	conn.SetDeadline(time.Time{})
	startFFmpeg(t, conn, append(testSignal(660), "-")...)
	env.ic.waitSource(ctx, t, mount)

	c.setMaster(&autoradio.MasterInfo{Name: "n2", IPs: []string{"127.0.0.2"}, IcecastPort: env.ic.port})
	changed := time.Now()
	conn.SetReadDeadline(changed.Add(10 * time.Second))
	// Closed while ffmpeg still writes: EOF, or a reset.
	if _, err := io.Copy(io.Discard, br); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the source's connection ended with %v, want it closed", err)
	}
	t.Logf("source disconnected %v after the master changed", time.Since(changed).Round(time.Millisecond))
	waitFor(ctx, t, "no source on "+mount+" at the old master", func() bool {
		st, err := env.ic.stats()
		_, ok := st[mount]
		return err == nil && !ok
	})
}
