package httpfe

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"autoradio"

	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// Source encodings for the fan-out tests, by mount.
var fanoutSources = map[string][]string{
	"/vorbis.ogg": append(testSignal(440), "-content_type", "application/ogg"),
	"/opus.ogg": {"-re", "-f", "lavfi", "-i", "sine=frequency=660[s];anoisesrc=color=pink:amplitude=0.1[n];[s][n]amix=inputs=2",
		"-t", "600", "-c:a", "libopus", "-b:a", "64k", "-f", "ogg", "-page_duration", "200000", "-content_type", "application/ogg"},
	"/music.mp3": append(audiotest.EncodeArgs("/music.mp3"), "-t", "600"),
}

// TestFanout runs proxied listeners of Ogg Vorbis, Ogg Opus and MP3 mounts
// of a real Icecast through the front-end's shared feeds.
func TestFanout(t *testing.T) {
	var mounts []string
	for m := range fanoutSources {
		mounts = append(mounts, m)
	}
	cfg := Config{StreamGrace: time.Second, StreamWriteTimeout: time.Second,
		StreamQueueSize: 128 << 10, StreamBurstSize: 32 << 10, MaxProxiedListeners: 20}
	env := startLive(t, cfg, append(mounts, "/restart.mp3", "/music.aac", "/first.mp3")...)
	ctx := testenv.Context(t, 3*time.Minute)
	for m, args := range fanoutSources {
		startFFmpeg(t, nil, append(args, fmt.Sprintf("icecast://%s:%s@%s%s", srcUser, srcPass, env.ic.addr, m))...)
	}
	for _, m := range mounts {
		env.ic.waitSource(ctx, t, m)
	}

	t.Run("late joiners decode and share one upstream", func(t *testing.T) {
		var wg sync.WaitGroup
		for _, m := range mounts {
			for i := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					env.joinAndDecode(ctx, t, m, time.Duration(i)*time.Second)
				}()
			}
		}
		// All nine listen from 2 s to 4 s (less the time they take to
		// connect).
		nctx, stop := context.WithTimeout(ctx, 4*time.Second)
		waitFor(nctx, t, "9 proxied streams", func() bool { return metricValue(t, env.reg, "autoradio_proxied_streams") == 9 })
		stop()
		proxied := env.proxied(t)
		for _, m := range mounts {
			if n := env.ic.listeners(m); n != 1 {
				t.Errorf("%s: Icecast counts %d listeners for 3 proxied ones, want 1", m, n)
			}
			if p := proxied[m]; p != (autoradio.ProxiedMount{Listeners: 3, Upstreams: 1}) {
				t.Errorf("%s: /_proxied.json says %+v, want 3 listeners and the upstream", m, p)
			}
		}
		wg.Wait()
	})
	t.Run("late listener with Icy metadata starts at a metadata block", func(t *testing.T) {
		env.icyListener(ctx, t, "/music.mp3")
	})
	t.Run("the listener that opens an MP3 feed starts at a frame", func(t *testing.T) {
		// A new source's stream starts with an ID3 tag; one that has
		// gone on for a while, wherever Icecast's burst begins.
		startFFmpeg(t, nil, append(fanoutSources["/music.mp3"],
			fmt.Sprintf("icecast://%s:%s@%s%s", srcUser, srcPass, env.ic.addr, "/first.mp3"))...)
		env.ic.waitSource(ctx, t, "/first.mp3")
		env.firstMP3Listener(ctx, t, "/first.mp3")
		env.firstMP3Listener(ctx, t, "/music.mp3")
	})
	t.Run("first and late AAC listeners start at an ADTS frame", func(t *testing.T) {
		env.aacListener(ctx, t, "/music.aac")
	})
	t.Run("HEAD answers the stream's headers", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodHead, "http://"+env.fe+"/_stream/music.mp3", nil)
		resp, err := testClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/mpeg" ||
			resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("HEAD: %s, headers %v", resp.Status, resp.Header)
		}
	})
	t.Run("slow listener is dropped, fast one goes on", func(t *testing.T) {
		env.slowListener(ctx, t, "/music.mp3")
	})
	t.Run("upstream closes after the grace period", func(t *testing.T) {
		env.graceClose(ctx, t, "/vorbis.ogg", cfg.StreamGrace)
	})
	t.Run("listeners go on across a source restart, and end without a source", func(t *testing.T) {
		env.sourceRestart(ctx, t, "/restart.mp3", DefaultStreamReconnect)
	})
	t.Run("listeners beyond the limit get 503", func(t *testing.T) {
		env.limit(ctx, t, "/opus.ogg", cfg.MaxProxiedListeners)
	})
}

// joinAndDecode waits, then captures 4 s of mount through the front-end and
// checks that it decodes: strictly for Ogg, as a joined MP3 for MP3.
func (env *liveEnv) joinAndDecode(ctx context.Context, t *testing.T, mount string, wait time.Duration) {
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return
	}
	data, err := audiotest.Capture(ctx, "http://"+env.fe+"/_stream"+mount, 4*time.Second)
	if err != nil {
		t.Errorf("%s joined after %v: %v", mount, wait, err)
		return
	}
	decode := audiotest.Decode
	if mount == "/music.mp3" {
		decode = audiotest.DecodeJoined
	}
	if err := decode(ctx, data, 2*time.Second); err != nil {
		t.Errorf("%s joined after %v: %d bytes: %v", mount, wait, len(data), err)
		return
	}
	t.Logf("%s joined after %v: %d bytes in 4 s decode", mount, wait, len(data))
}

// aacListener streams AAC in ADTS frames to mount, and has a listener
// join its feed well after another: both captures must start with an ADTS
// header, and the late one decode without a single error.
func (env *liveEnv) aacListener(ctx context.Context, t *testing.T, mount string) {
	startFFmpeg(t, nil, "-re", "-f", "lavfi", "-i", "sine=frequency=550", "-t", "600", "-c:a", "aac", "-b:a", "64k",
		"-f", "adts", "-content_type", "audio/aac", fmt.Sprintf("icecast://%s:%s@%s%s", srcUser, srcPass, env.ic.addr, mount))
	env.ic.waitSource(ctx, t, mount)
	url := "http://" + env.fe + "/_stream" + mount
	first := audiotest.Listen(ctx, url)
	defer first.Stop()
	// Past the burst of 32 KiB: the late listener must not start at the
	// start of the stream.
	if err := first.WaitBytes(0, 48<<10, 10*time.Second); err != nil {
		t.Fatalf("first listener: %v", err)
	}
	if _, err := adtsFrames(first.DataSince(0)); err != nil {
		t.Errorf("the listener that opened the feed: %v", err)
	}
	data, err := audiotest.Capture(ctx, url, 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The capture ends where it was cut, mid-frame: decode whole frames.
	whole, err := adtsFrames(data)
	if err != nil {
		t.Fatalf("the late listener's %d bytes: %v", len(data), err)
	}
	if err := audiotest.Decode(ctx, data[:whole], 2*time.Second); err != nil {
		t.Errorf("late AAC listener: %d bytes: %v", len(data), err)
	}
	t.Logf("late AAC listener joined after %d bytes: %d bytes in 4 s decode", first.Bytes(), len(data))
}

// firstMP3Listener opens the feed of an MP3 mount, once the feeds it had
// are closed, with a listener: Icecast's first bytes to the feed need not
// start a frame, the listener's must, and its capture must decode.
func (env *liveEnv) firstMP3Listener(ctx context.Context, t *testing.T, mount string) {
	// The grace period of the feeds before (1 s) and more.
	wctx, stop := context.WithTimeout(ctx, testenv.Bound(10*time.Second))
	defer stop()
	waitFor(wctx, t, "no feed of "+mount, func() bool { return env.proxied(t)[mount].Upstreams == 0 })
	data, err := audiotest.Capture(ctx, "http://"+env.fe+"/_stream"+mount, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := mp3FramesAt(data, 3); err != nil {
		t.Errorf("%s: the listener that opened the feed: %v", mount, err)
	}
	if err := audiotest.DecodeJoined(ctx, data, time.Second); err != nil {
		t.Errorf("%s: the listener that opened the feed: %d bytes: %v", mount, len(data), err)
	}
	t.Logf("%s: the listener that opened the feed got %d bytes, starting % x", mount, len(data), data[:min(4, len(data))])
}

// mp3FramesAt checks that data starts with n MPEG-1 layer III frames
// (sync 0xFFE), each right after the other.
func mp3FramesAt(data []byte, n int) error {
	rates := [15]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
	at := 0
	for i := range n {
		if at+4 > len(data) {
			return fmt.Errorf("%d bytes: frame %d cut short", len(data), i)
		}
		h := data[at : at+4]
		bi, si := int(h[2]>>4), int(h[2]>>2&3)
		if h[0] != 0xFF || h[1]&0xFE != 0xFA || bi == 0 || bi == 15 || si == 3 {
			return fmt.Errorf("no MPEG-1 layer III frame header at byte %d: % x", at, h)
		}
		at += 144*rates[bi]*1000/[3]int{44100, 48000, 32000}[si] + int(h[2]>>1&1)
	}
	return nil
}

// adtsFrames follows the ADTS frames from the start of data, and returns
// the length of the whole ones; an error if data does not start with one,
// or if a frame is not followed by another.
func adtsFrames(data []byte) (int, error) {
	at := 0
	for at+7 <= len(data) {
		h := data[at:]
		if h[0] != 0xFF || h[1]&0xF6 != 0xF0 {
			return 0, fmt.Errorf("no ADTS header at byte %d: % x", at, h[:7])
		}
		n := int(h[3]&3)<<11 | int(h[4])<<3 | int(h[5]>>5)
		if at+n > len(data) {
			break
		}
		at += n
	}
	if at == 0 {
		return 0, errors.New("not a single whole ADTS frame")
	}
	return at, nil
}

// slowListener connects a listener that stops reading with a small receive
// buffer, next to a normal one: the slow one must be disconnected within
// 20 s, the other must go on receiving without a gap.
func (env *liveEnv) slowListener(ctx context.Context, t *testing.T, mount string) {
	url := "http://" + env.fe + "/_stream" + mount
	fast := audiotest.Listen(ctx, url)
	defer fast.Stop()
	slowBefore := metricValue(t, env.reg, "autoradio_proxied_slow_listeners_total")
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.DialContext(ctx, "tcp", env.fe)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /_stream%s HTTP/1.1\r\nHost: %s\r\n\r\n", mount, env.fe)
	start := time.Now()
	bctx, stop := context.WithTimeout(ctx, 20*time.Second)
	defer stop()
	waitFor(bctx, t, "the slow listener to be dropped", func() bool {
		return metricValue(t, env.reg, "autoradio_proxied_slow_listeners_total") > slowBefore
	})
	dropped := time.Since(start)
	// Its connection is closed: reading drains what was sent, then ends.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, conn)
	if err != nil {
		t.Errorf("reading the slow listener's connection after %d bytes: %v, want EOF", n, err)
	}
	mark := fast.Mark()
	if err := fast.WaitBytes(mark, 8<<10, 5*time.Second); err != nil {
		t.Errorf("fast listener: %v", err)
	}
	if gap := fast.MaxGap(); gap > 2*time.Second || fast.Err() != nil {
		t.Errorf("fast listener: longest gap %v, err %v", gap, fast.Err())
	}
	t.Logf("slow listener dropped after %v (%d bytes sent to it); fast listener's longest gap %v",
		dropped, n, fast.MaxGap())
}

// graceClose checks that a mount's connection to Icecast outlives its last
// listener by about grace, and no more.
func (env *liveEnv) graceClose(ctx context.Context, t *testing.T, mount string, grace time.Duration) {
	waitFor(ctx, t, "no upstreams", func() bool { return metricValue(t, env.reg, "autoradio_proxied_upstreams") == 0 })
	l := audiotest.Listen(ctx, "http://"+env.fe+"/_stream"+mount)
	err := l.WaitBytes(0, 4<<10, 5*time.Second)
	l.Stop()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "no proxied streams", func() bool { return metricValue(t, env.reg, "autoradio_proxied_streams") == 0 })
	left := time.Now()
	if n := env.ic.listeners(mount); n != 1 {
		t.Errorf("Icecast listeners %d just after the last listener left, want 1 until the grace period (%v) ends", n, grace)
	}
	gctx, stop := context.WithTimeout(ctx, grace+3*time.Second)
	defer stop()
	waitFor(gctx, t, "Icecast to drop the shared upstream", func() bool {
		return env.ic.listeners(mount) == 0 && metricValue(t, env.reg, "autoradio_proxied_upstreams") == 0
	})
	if d := time.Since(left); d < grace {
		t.Errorf("upstream closed %v after the last listener, before the grace period %v", d, grace)
	} else {
		t.Logf("upstream closed %v after the last listener (grace %v)", d, grace)
	}
}

// limit holds max listeners of mount and checks that one more gets a 503
// with a Retry-After.
func (env *liveEnv) limit(ctx context.Context, t *testing.T, mount string, max int) {
	var ls []*audiotest.Listener
	defer func() {
		for _, l := range ls {
			l.Stop()
		}
	}()
	url := "http://" + env.fe + "/_stream" + mount
	for range max {
		ls = append(ls, audiotest.Listen(ctx, url))
	}
	waitFor(ctx, t, fmt.Sprintf("%d proxied streams", max), func() bool {
		return metricValue(t, env.reg, "autoradio_proxied_streams") == float64(max)
	})
	conn := dialFE(t, env.fe)
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /_stream%s HTTP/1.1\r\nHost: %s\r\n\r\n", mount, env.fe)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("listener %d: %s, Retry-After %q; want 503 with a Retry-After", max+1, resp.Status, resp.Header.Get("Retry-After"))
	}
	// Icecast's stats lag a little behind a new connection.
	ictx, stop := context.WithTimeout(ctx, 3*time.Second)
	defer stop()
	waitFor(ictx, t, fmt.Sprintf("Icecast to count 1 listener for %d proxied ones", max), func() bool {
		return env.ic.listeners(mount) == 1
	})
}

// proxied returns the front-end's /_proxied.json.
func (env *liveEnv) proxied(t *testing.T) map[string]autoradio.ProxiedMount {
	resp, err := testClient(t).Get("http://" + env.fe + "/_proxied.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Mounts map[string]autoradio.ProxiedMount
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("/_proxied.json: %v", err)
	}
	return doc.Mounts
}

// sourceRestart listens to mount while its source stops and another takes
// its place: the listener must go on receiving on the same connection. When
// the source stops for good, the listener must be disconnected once the
// front-end has retried Icecast for reconnect.
func (env *liveEnv) sourceRestart(ctx context.Context, t *testing.T, mount string, reconnect time.Duration) {
	source := func() *testenv.Proc {
		testenv.RequireBinaries(t, "ffmpeg")
		args := append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, fanoutSources["/music.mp3"]...)
		return testenv.Start(t, "ffmpeg", append(args, fmt.Sprintf("icecast://%s:%s@%s%s", srcUser, srcPass, env.ic.addr, mount))...)
	}
	first := source()
	env.ic.waitSource(ctx, t, mount)
	l := audiotest.Listen(ctx, "http://"+env.fe+"/_stream"+mount)
	defer l.Stop()
	if err := l.WaitBytes(0, 16<<10, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	first.Kill()
	waitFor(ctx, t, "Icecast to drop the source", func() bool { return env.ic.listeners(mount) < 0 })
	second := source()
	env.ic.waitSource(ctx, t, mount)
	mark := l.Mark()
	if err := l.WaitBytes(mark, 32<<10, 10*time.Second); err != nil || l.Err() != nil {
		t.Fatalf("after the source restarted: %v, listener: %v", err, l.Err())
	}
	t.Logf("the listener went on across the source restart (longest gap %v)", l.MaxGap())
	second.Kill()
	gone := time.Now()
	ectx, stop := context.WithTimeout(ctx, reconnect+5*time.Second)
	defer stop()
	waitFor(ectx, t, "the listener to be disconnected", func() bool { return l.Err() != nil })
	t.Logf("the listener was disconnected %v after the source left (%v)", time.Since(gone), l.Err())
}

// icyListener has a listener join mount's feed with Icy metadata well
// after another: its stream must hold whole metadata blocks at the
// announced interval, among them the title set meanwhile, and its audio
// must decode.
func (env *liveEnv) icyListener(ctx context.Context, t *testing.T, mount string) {
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	first := env.icyGet(fctx, t, mount)
	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := first.Body.Read(buf)
			got.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	defer func() { stop(); <-done }()
	waitFor(ctx, t, "64 KiB for the first listener", func() bool { return got.Load() >= 64<<10 })

	sctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	second := env.icyGet(sctx, t, mount)
	metaint, err := strconv.Atoi(second.Header.Get("Icy-MetaInt"))
	if err != nil || metaint <= 0 {
		t.Fatalf("Icy-MetaInt %q", second.Header.Get("Icy-MetaInt"))
	}
	const title = "Fanout Test"
	env.setTitle(t, mount, title)
	data, _ := io.ReadAll(second.Body) // until sctx ends
	audio, titles, err := stripIcy(data, metaint)
	if err != nil {
		t.Fatalf("%d bytes, metadata every %d: %v", len(data), metaint, err)
	}
	if !slices.Contains(titles, "StreamTitle='"+title+"';") {
		t.Errorf("titles %q, want %q", titles, title)
	}
	if err := audiotest.DecodeJoined(ctx, audio, 2*time.Second); err != nil {
		t.Errorf("audio of %d bytes: %v", len(audio), err)
	}
	t.Logf("joined after %d bytes: %d bytes with metadata every %d bytes, titles %q", got.Load(), len(data), metaint, titles)
}

// icyGet requests mount through the front-end with Icy-MetaData: 1.
func (env *liveEnv) icyGet(ctx context.Context, t *testing.T, mount string) *http.Response {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+env.fe+"/_stream"+mount, nil)
	req.Header.Set("Icy-MetaData", "1")
	resp, err := testClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s with Icy-MetaData: %s", mount, resp.Status)
	}
	return resp
}

// setTitle sets mount's title through Icecast's admin interface.
func (env *liveEnv) setTitle(t *testing.T, mount, title string) {
	q := url.Values{"mount": {mount}, "mode": {"updinfo"}, "song": {title}}
	req, _ := http.NewRequest(http.MethodGet, "http://"+env.ic.addr+"/admin/metadata?"+q.Encode(), nil)
	req.SetBasicAuth("admin", "admin-"+srcPass)
	resp, err := testClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("setting the title: %s", resp.Status)
	}
}

// stripIcy splits a stream with Icy metadata every metaint bytes into its
// audio and its non-empty metadata blocks; a block that is not a
// StreamTitle means the stream did not start at a block boundary.
func stripIcy(data []byte, metaint int) (audio []byte, meta []string, err error) {
	for len(data) > 0 {
		n := min(metaint, len(data))
		audio, data = append(audio, data[:n]...), data[n:]
		if len(data) == 0 {
			break
		}
		size := 16 * int(data[0])
		if size >= len(data) {
			break // cut off by the end of the capture
		}
		m := strings.TrimRight(string(data[1:1+size]), "\x00")
		if size > 0 && !strings.HasPrefix(m, "StreamTitle=") {
			return nil, nil, fmt.Errorf("metadata block %d at byte %d is %q", len(meta), len(audio), m)
		}
		if m != "" {
			meta = append(meta, m)
		}
		data = data[1+size:]
	}
	return audio, meta, nil
}

// TestOtherUpstreams: the fan-out streams from the other nodes that serve
// a mount live, the master first, never from one that steps aside; the
// local Icecast is not live while its own node steps aside.
func TestOtherUpstreams(t *testing.T) {
	mount := []autoradio.MountStatus{{Name: "/live.ogg", SourceConnected: true}}
	node := func(name string, master, stepAside bool) *autoradio.NodeStatus {
		return &autoradio.NodeStatus{Name: name, IPs: []string{"192.0.2.1"}, IcecastPort: 8000, IcecastOK: true,
			IsMaster: master, StepAside: stepAside, Mounts: mount}
	}
	c := testCluster()
	h, _ := newTestHandler(t, Config{NodeName: "self"}, c)
	for _, tc := range []struct {
		name      string
		nodes     []*autoradio.NodeStatus
		others    []string
		localLive bool
	}{
		{"all live", []*autoradio.NodeStatus{node("self", false, false), node("relay", false, false), node("master", true, false)},
			[]string{"master", "relay"}, true},
		{"the master steps aside", []*autoradio.NodeStatus{node("self", false, false), node("relay", false, false), node("master", true, true)},
			[]string{"relay"}, true},
		{"this node steps aside", []*autoradio.NodeStatus{node("self", false, true), node("master", true, false)},
			[]string{"master"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.setNodes(tc.nodes...)
			var names []string
			for _, o := range h.otherUpstreams("/live.ogg") {
				names = append(names, o.Name)
			}
			if !slices.Equal(names, tc.others) {
				t.Errorf("others %v, want %v", names, tc.others)
			}
			if got := h.localLive("/live.ogg"); got != tc.localLive {
				t.Errorf("local live %v, want %v", got, tc.localLive)
			}
		})
	}
}
