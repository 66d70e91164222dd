package httpfe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audioframe"
	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// A source accepted by one Icecast outlives it: when the master changes,
// or the master's Icecast dies, the front-end keeps the source's
// connection, moves the source to the new master's Icecast and replays
// it from a frame (MP3) or from its header pages and a page (Ogg). The
// source, an ffmpeg that never reconnects, goes on as if nothing
// happened, and a listener of the new Icecast decodes the stream. With
// no tee (SourceTee negative) the old master's connection is closed as
// soon as the master changes.
func TestLiveSourceResumes(t *testing.T) {
	mounts := []string{"/switch.mp3", "/switch.ogg", "/killed.mp3", "/killed.ogg"}
	env := startLive(t, Config{SourceTee: -1}, mounts...)
	ctx := testenv.Context(t, 3*time.Minute)
	next := startIcecast(t, 50, mounts...)
	cur := env.ic // the master's Icecast
	outer := t    // Icecasts started in a subtest outlive it
	sources := 0
	for _, c := range []struct {
		name   string
		mount  string
		reason string
		kill   bool // the old master's Icecast dies: a new one is elected a second later
	}{
		{"MP3, master changed", "/switch.mp3", reconnectMaster, false},
		{"Ogg, master changed", "/switch.ogg", reconnectMaster, false},
		{"MP3, master's Icecast killed", "/killed.mp3", "", true},
		{"Ogg, master's Icecast killed", "/killed.ogg", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			from, to := cur, next
			if from == next {
				to = env.ic
			}
			if c.kill {
				to = startIcecast(outer, 50, mounts...)
			}
			cur = to
			before := metricValue(t, env.reg, "autoradio_source_reconnects_total", "reason", c.reason)
			src := testenv.Start(t, "ffmpeg", append(append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"},
				audiotest.EncodeArgs(c.mount)...), fmt.Sprintf("icecast://%s:%s@%s%s", srcUser, srcPass, env.fe, c.mount))...)
			sources++
			from.waitSource(ctx, t, c.mount)
			time.Sleep(2 * time.Second) // a stream with a past
			moved := time.Now()
			if c.kill {
				from.kill()
				time.Sleep(time.Second) // the election
			}
			env.cluster.setMaster(masterOf(to))
			to.waitSource(ctx, t, c.mount)
			t.Logf("%s: live on the new master's Icecast %v after the change", c.mount, time.Since(moved).Round(time.Millisecond))
			capture, err := audiotest.Capture(ctx, "http://"+to.addr+c.mount, 3*time.Second)
			if err != nil {
				t.Fatalf("listening to the new master: %v", err)
			}
			checkJoin(ctx, t, c.mount, capture)
			select {
			case <-src.Done():
				t.Fatalf("the source was disconnected:\n%s", src.Output())
			default:
			}
			if v := metricValue(t, env.reg, "autoradio_source_connections_total", "result", "accepted"); v != float64(sources) {
				t.Errorf("accepted source connections = %v, want %d: the source reconnected", v, sources)
			}
			if c.reason != "" {
				if v := metricValue(t, env.reg, "autoradio_source_reconnects_total", "reason", c.reason); v != before+1 {
					t.Errorf("reconnects for %s = %v, want %v", c.reason, v, before+1)
				}
			}
			if !c.kill {
				waitFor(ctx, t, "no source on "+c.mount+" at the old master", func() bool {
					st, err := from.stats()
					_, ok := st[c.mount]
					return err == nil && !ok
				})
			}
			src.Kill()
		})
		if t.Failed() {
			return
		}
	}
	t.Logf("dropped bytes: %v", metricValue(t, env.reg, "autoradio_source_dropped_bytes_total"))
}

// A source held longer than its backlog keeps only the most recent
// audio, from a frame on: the new master's stream still starts at a
// frame and decodes, and the bytes dropped are counted.
func TestLiveSourceBacklogBound(t *testing.T) {
	const mount = "/long.mp3"
	env := startLive(t, Config{SourceBacklog: time.Second}, mount)
	ctx := testenv.Context(t, 90*time.Second)
	next := startIcecast(t, 50, mount)
	testenv.Start(t, "ffmpeg", append(append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"},
		audiotest.EncodeArgs(mount)...), fmt.Sprintf("icecast://%s:%s@%s%s", srcUser, srcPass, env.fe, mount))...)
	env.ic.waitSource(ctx, t, mount)
	env.ic.kill()
	time.Sleep(4 * time.Second) // no master for 4 s: 3 s of audio more than the backlog holds
	env.cluster.setMaster(masterOf(next))
	next.waitSource(ctx, t, mount)
	capture, err := audiotest.Capture(ctx, "http://"+next.addr+mount, 2*time.Second)
	if err != nil {
		t.Fatalf("listening to the new master: %v", err)
	}
	checkJoin(ctx, t, mount, capture)
	// 128 kbit/s: 16 kB a second, of which about 3 s dropped.
	dropped := metricValue(t, env.reg, "autoradio_source_dropped_bytes_total")
	if dropped < 2*16_000 || dropped > 5*16_000 {
		t.Errorf("dropped %v bytes of a source held 4 s with a backlog of 1 s, want about 48000", dropped)
	}
	t.Logf("held 4 s with a 1 s backlog: %v bytes dropped", dropped)
}

// A chunked source (curl -T -) moves to a new master de-chunked too.
func TestLiveChunkedSourceResumes(t *testing.T) {
	const mount = "/curl.mp3"
	env := startLive(t, Config{}, mount)
	ctx := testenv.Context(t, 90*time.Second)
	next := startIcecast(t, 50, mount)
	env.curlSource(ctx, t, mount)
	time.Sleep(time.Second)
	env.cluster.setMaster(masterOf(next))
	next.waitSource(ctx, t, mount)
	capture, err := audiotest.Capture(ctx, "http://"+next.addr+mount, 3*time.Second)
	if err != nil {
		t.Fatalf("listening to the new master: %v", err)
	}
	checkJoin(ctx, t, mount, capture)
	if loc := chunkLine.FindIndex(capture); loc != nil {
		t.Errorf("chunk-size line %q at byte %d of the new master's stream", capture[loc[0]:loc[1]], loc[0])
	}
	if v := metricValue(t, env.reg, "autoradio_source_connections_total", "result", "accepted"); v != 1 {
		t.Errorf("accepted source connections = %v, want 1: curl reconnected", v)
	}
}

// masterOf returns the master whose Icecast is ic.
func masterOf(ic *icecast) *autoradio.MasterInfo {
	return &autoradio.MasterInfo{Name: "n" + strconv.Itoa(ic.port), IPs: []string{"127.0.0.1"}, IcecastPort: ic.port}
}

// checkJoin checks that a capture of a mount's first seconds on an
// Icecast decodes, and, for MP3, that it starts at a frame: Icecast
// passes MP3 on as it comes, so its first listener gets what the
// front-end sent from the start.
func checkJoin(ctx context.Context, t *testing.T, mount string, capture []byte) {
	t.Helper()
	if len(capture) < 4 {
		t.Fatalf("%s: captured %d bytes", mount, len(capture))
	}
	if bytes.HasPrefix(capture, audioframe.OggMagic) {
		if err := audiotest.Decode(ctx, capture, 2*time.Second); err != nil {
			t.Errorf("%s: %v", mount, err)
		}
		return
	}
	if _, ok := audioframe.MP3([4]byte(capture)); !ok {
		t.Errorf("%s: the new master's stream starts with % x, not an MP3 frame", mount, capture[:4])
	}
	if err := audiotest.DecodeJoined(ctx, capture, 2*time.Second); err != nil {
		t.Errorf("%s: %v", mount, err)
	}
}

// A held source that no master takes within SourceResume is
// disconnected, and so is one that the new master's Icecast refuses for
// another reason than not knowing the mount yet.
func TestLiveSourceResumeGivesUp(t *testing.T) {
	env := startLive(t, Config{}, "/nomaster.ogg", "/refused.ogg")
	ctx := testenv.Context(t, 90*time.Second)
	t.Run("no master in time", func(t *testing.T) {
		addr, _, c := env.secondFE(ctx, t, Config{SourceResume: time.Second}, "/nomaster.ogg")
		// Nothing listens there: the master's Icecast is gone.
		c.setMaster(&autoradio.MasterInfo{Name: "gone", IPs: []string{"127.0.0.2"}, IcecastPort: env.ic.port})
		env.sourceEndsAfterMove(ctx, t, addr, "/nomaster.ogg", c, time.Second)
	})
	t.Run("refused", func(t *testing.T) {
		addr, _, c := env.secondFE(ctx, t, Config{}, "/refused.ogg")
		refusing, _ := testenv.TCPServer(t, "127.0.0.1", func(conn net.Conn) {
			defer conn.Close()
			io.WriteString(conn, "HTTP/1.0 500 Internal Server Error\r\n\r\n")
		})
		_, port, _ := net.SplitHostPort(refusing)
		p, _ := strconv.Atoi(port)
		c.setMaster(&autoradio.MasterInfo{Name: "refusing", IPs: []string{"127.0.0.1"}, IcecastPort: p})
		env.sourceEndsAfterMove(ctx, t, addr, "/refused.ogg", c, 0)
	})
}

// A source in which the front-end finds no frame is not held: it is
// disconnected as soon as the master changes, to reconnect by itself.
func TestLiveUnframedSourceNotHeld(t *testing.T) {
	env := startLive(t, Config{}, "/noise.mp3")
	ctx := testenv.Context(t, 30*time.Second)
	addr, _, c := env.secondFE(ctx, t, Config{}, "/noise.mp3")
	conn := dialFE(t, addr)
	conn.SetDeadline(time.Now().Add(testenv.Bound(20 * time.Second)))
	fmt.Fprintf(conn, "SOURCE /noise.mp3 HTTP/1.0\r\nAuthorization: %s\r\nContent-Type: audio/mpeg\r\n\r\n", basicAuth(srcUser, srcPass))
	br := bufio.NewReader(conn)
	if status, err := br.ReadString('\n'); err != nil || !strings.Contains(status, " 200 ") {
		t.Fatalf("SOURCE answer %q, %v", status, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		noise := make([]byte, 2048) // zeros: no frame header anywhere
		for {
			if _, err := conn.Write(noise); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	env.ic.waitSource(ctx, t, "/noise.mp3")
	c.setMaster(&autoradio.MasterInfo{Name: "n2", IPs: []string{"127.0.0.1"}, IcecastPort: env.ic.port})
	changed := time.Now()
	if _, err := io.Copy(io.Discard, br); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the source's connection ended with %v, want it closed", err)
	}
	<-done
	if d := time.Since(changed); d > testenv.Bound(5*time.Second) {
		t.Errorf("closed %v after the master changed: held, not closed at once", d)
	}
}

// sourceEndsAfterMove streams a source through the front-end at addr
// (whose cluster c names env's Icecast master), then makes master the
// master: the source's connection must end after about wait.
func (env *liveEnv) sourceEndsAfterMove(ctx context.Context, t *testing.T, addr, mount string, c *fakeCluster, wait time.Duration) {
	master, _ := c.Master()
	c.setMaster(&autoradio.MasterInfo{Name: "n1", IPs: []string{"127.0.0.1"}, IcecastPort: env.ic.port})
	conn, br := startSource(t, addr, mount)
	conn.SetDeadline(time.Time{})
	startFFmpeg(t, conn, append(testSignal(550), "-")...)
	env.ic.waitSource(ctx, t, mount)
	c.setMaster(master)
	changed := time.Now()
	conn.SetReadDeadline(changed.Add(testenv.Bound(20 * time.Second)))
	if _, err := io.Copy(io.Discard, br); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the source's connection ended with %v, want it closed", err)
	}
	d := time.Since(changed)
	t.Logf("source disconnected %v after the master changed", d.Round(time.Millisecond))
	// The last wait between tries may not fit in SourceResume.
	if d < wait-resumeRetry.Max {
		t.Errorf("disconnected after %v, before SourceResume (%v)", d, wait)
	}
}

// A backlog starts at the first point at or after where the source was
// held, and drops its oldest audio, a point at a time, beyond its limit.
func TestBacklog(t *testing.T) {
	const frame = 100 // bytes of 1 s of audio, in this made-up stream
	point := func(i int) audioframe.Point {
		return audioframe.Point{Pos: int64(i * frame), At: time.Duration(i) * time.Second, Header: []byte("H")}
	}
	b := &backlog{start: 150, limits: backlogLimits{audio: 3 * time.Second}}
	if b.add(make([]byte, 50), []audioframe.Point{point(1)}); b.ready() {
		t.Fatal("ready with no point after where it began")
	}
	dropped := 0
	for i := 2; i <= 8; i++ {
		dropped += b.add(make([]byte, frame), []audioframe.Point{point(i)})
	}
	// Bytes 150 to 900, points at 2..8 s: the 3 s from 5 to 8 are kept.
	if !b.ready() || b.points[0].Pos != 500 || dropped != 350 {
		t.Fatalf("first point %+v, %d bytes dropped; want the point at 500 and 350 dropped", b.points[0], dropped)
	}
	head, data, before := b.replay()
	if string(head) != "H" || len(data) != 400 || before != 0 {
		t.Errorf("replay: header %q, %d bytes, %d before the point; want H, 400, 0", head, len(data), before)
	}

	// No point at all: the byte bound alone holds.
	b = &backlog{limits: backlogLimits{audio: time.Second}}
	for range 3 {
		b.add(make([]byte, maxBacklogBytes/2+1), nil)
	}
	if len(b.data) > maxBacklogBytes {
		t.Errorf("a backlog without points holds %d bytes, more than %d", len(b.data), maxBacklogBytes)
	}
}
