package httpfe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// A source whose master changes is moved make-before-break: the old
// master's Icecast is fed on while the new one refuses the source (here
// its mount is taken, 403, as a new master's is while its relay of the
// mount winds down), and after the move until the old master lets go of
// it (its admin kills the source, as its radiod does). A listener of the
// old master hears no gap through the whole move; afterwards the source
// goes on on the new master only, and the source client, an ffmpeg that
// never reconnects, sees nothing of it.
func TestLiveSourceTee(t *testing.T) {
	const mount = "/tee.mp3"
	logs := &logBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("front-end's log:\n%s", logs)
		}
	}()
	env := startLiveLog(t, Config{}, slog.New(slog.NewTextHandler(logs, nil)), mount)
	ctx := testenv.Context(t, 2*time.Minute)
	oldIC, newIC := env.ic, startIcecast(t, 50, mount)
	squatter := ffmpegSource(t, newIC.addr, mount)
	newIC.waitSource(ctx, t, mount)
	src := ffmpegSource(t, env.fe, mount)
	oldIC.waitSource(ctx, t, mount)

	listener := audiotest.Listen(ctx, "http://"+oldIC.addr+mount)
	defer listener.Stop()
	if err := listener.WaitBytes(0, 16_000, testenv.Bound(10*time.Second)); err != nil {
		t.Fatalf("listening to the old master: %v", err)
	}
	listening := time.Now()
	env.cluster.setMaster(masterOf(newIC))
	testenv.Eventually(t, 5*time.Second, func() error {
		if v := metricValue(t, env.reg, "autoradio_source_reconnects_total", "reason", reconnectMaster); v != 1 {
			return fmt.Errorf("reconnects for a master change: %v, want 1", v)
		}
		return nil
	})

	// (a) The new master refuses the source for 3 s: the old one has it.
	mark := listener.Mark()
	time.Sleep(3 * time.Second)
	if err := listener.WaitBytes(mark, 2*16_000, testenv.Bound(5*time.Second)); err != nil {
		t.Errorf("the old master's listener while the new master refused the source: %v", err)
	}
	squatter.Kill()
	testenv.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(logs.String(), "moved make-before-break") {
			return fmt.Errorf("the source is not on the new master yet")
		}
		return nil
	})
	capture, err := audiotest.Capture(ctx, "http://"+newIC.addr+mount, 2*time.Second)
	if err != nil {
		t.Fatalf("listening to the new master: %v", err)
	}
	checkJoin(ctx, t, mount, capture)

	// (b) The old master still has the source after the move, with no
	// gap for its listener, until it lets go of it.
	mark = listener.Mark()
	if err := listener.WaitBytes(mark, 16_000, testenv.Bound(5*time.Second)); err != nil {
		t.Errorf("the old master's listener after the move: %v", err)
	}
	heard := time.Since(listening)
	if gap := listener.MaxGap(); gap > time.Second {
		t.Errorf("the old master's listener waited %v for data, want no gap over 1 s", gap)
	}
	// Icecast's burst comes on top of the live audio.
	if err := audiotest.DecodeJoined(ctx, listener.DataSince(0), heard); err != nil {
		t.Errorf("the old master's listener, %v through the move: %v", heard.Round(time.Millisecond), err)
	}
	t.Logf("old master's listener: %v through the move, longest wait for data %v",
		heard.Round(time.Millisecond), listener.MaxGap().Round(time.Millisecond))
	if v := metricValue(t, env.reg, "autoradio_source_tee_ended_total", "cause", teeClosed); v != 0 {
		t.Fatalf("tees ended by the old master before it let go: %v", v)
	}
	oldIC.killSource(t, mount)
	testenv.Eventually(t, 10*time.Second, func() error {
		if v := metricValue(t, env.reg, "autoradio_source_tee_ended_total", "cause", teeClosed); v != 1 {
			return fmt.Errorf("tees ended by the old master: %v, want 1", v)
		}
		return nil
	})

	// The source goes on on the new master only.
	capture, err = audiotest.Capture(ctx, "http://"+newIC.addr+mount, 2*time.Second)
	if err != nil {
		t.Fatalf("listening to the new master after the old one let go: %v", err)
	}
	// Mid-stream: Icecast's burst need not start at a frame.
	if err := audiotest.DecodeJoined(ctx, capture, time.Second); err != nil {
		t.Errorf("the new master after the old one let go: %v", err)
	}
	if st, err := oldIC.stats(); err != nil {
		t.Errorf("the old master's status: %v", err)
	} else if _, ok := st[mount]; ok {
		t.Errorf("the old master has %s again after it let go of it", mount)
	}
	checkOneConnection(t, env, src)
	for _, c := range []string{teeWriteFailed, teeBound, teeMasterChanged, teeSourceEnded} {
		if v := metricValue(t, env.reg, "autoradio_source_tee_ended_total", "cause", c); v != 0 {
			t.Errorf("tees ended for %s: %v, want 0", c, v)
		}
	}
	if strings.Contains(logs.String(), srcPass) {
		t.Errorf("the source's password is in the log:\n%s", logs)
	}
}

// A tee ends when its bound elapses, and when the master changes again:
// the connection to the master just deposed then becomes the tee.
func TestLiveSourceTeeEnds(t *testing.T) {
	const mount = "/teeends.ogg"
	const bound = 3 * time.Second
	env := startLive(t, Config{SourceTee: bound}, mount)
	ctx := testenv.Context(t, 2*time.Minute)
	a, b := env.ic, startIcecast(t, 50, mount)
	src := ffmpegSource(t, env.fe, mount)
	a.waitSource(ctx, t, mount)
	ended := func(cause string) float64 {
		return metricValue(t, env.reg, "autoradio_source_tee_ended_total", "cause", cause)
	}
	moves := func() float64 {
		return metricValue(t, env.reg, "autoradio_source_reconnects_total", "reason", reconnectMaster)
	}
	noSource := func(ic *icecast) func() bool {
		return func() bool {
			st, err := ic.stats()
			_, ok := st[mount]
			return err == nil && !ok
		}
	}

	// A to B: A is fed until the bound, and then loses the source.
	env.cluster.setMaster(masterOf(b))
	b.waitSource(ctx, t, mount)
	moved := time.Now()
	if noSource(a)() {
		t.Fatal("the old master lost the source as soon as the new one had it")
	}
	waitFor(ctx, t, "the tee's bound", func() bool { return ended(teeBound) == 1 })
	waitFor(ctx, t, "no source on the old master", noSource(a))
	if d := time.Since(moved); d < bound-masterCheckInterval {
		t.Errorf("the old master lost the source %v after the move, before the tee's bound (%v)", d, bound)
	}

	// B to A, and back to B before the tee to B ends: that tee ends
	// with the master change, and A gets one until its bound.
	env.cluster.setMaster(masterOf(a))
	waitFor(ctx, t, "the second move", func() bool { return moves() == 2 })
	a.waitSource(ctx, t, mount)
	env.cluster.setMaster(masterOf(b))
	waitFor(ctx, t, "the tee ended by the master change", func() bool { return ended(teeMasterChanged) == 1 })
	waitFor(ctx, t, "the second tee's bound", func() bool { return ended(teeBound) == 2 })
	waitFor(ctx, t, "no source on the old master", noSource(a))
	checkMoved(ctx, t, env, b.addr+mount, src, audiotest.Decode)
	for _, c := range []string{teeClosed, teeWriteFailed, teeSourceEnded} {
		if v := ended(c); v != 0 {
			t.Errorf("tees ended for %s: %v, want 0", c, v)
		}
	}
}

// When the old master is master again before the new one took the
// source, the tee ends, so that the old master's Icecast, whose mount
// it holds, takes the source back.
func TestLiveSourceTeeMasterComesBack(t *testing.T) {
	const mount = "/back.mp3"
	logs := &logBuffer{}
	env := startLiveLog(t, Config{}, slog.New(slog.NewTextHandler(logs, nil)), mount)
	ctx := testenv.Context(t, time.Minute)
	a, b := env.ic, startIcecast(t, 50, mount)
	ffmpegSource(t, b.addr, mount) // b refuses the source: its mount is taken
	b.waitSource(ctx, t, mount)
	src := ffmpegSource(t, env.fe, mount)
	a.waitSource(ctx, t, mount)
	back := masterOf(a)
	back.Name = "n1" // startLive's name for a
	env.cluster.setMaster(masterOf(b))
	waitFor(ctx, t, "the source held", func() bool {
		return metricValue(t, env.reg, "autoradio_source_reconnects_total", "reason", reconnectMaster) == 1
	})
	env.cluster.setMaster(back)
	waitFor(ctx, t, "the tee ended by the master change", func() bool {
		return metricValue(t, env.reg, "autoradio_source_tee_ended_total", "cause", teeMasterChanged) == 1
	})
	waitFor(ctx, t, "the source back on the old master", func() bool {
		return strings.Contains(logs.String(), "moved to the master of the moment")
	})
	checkMoved(ctx, t, env, a.addr+mount, src, audiotest.DecodeJoined)
}

// checkMoved checks that the master's stream at hostPath decodes, and
// that the source was never disconnected nor connected twice.
func checkMoved(ctx context.Context, t *testing.T, env *liveEnv, hostPath string, src *testenv.Proc,
	decode func(context.Context, []byte, time.Duration) error) {
	t.Helper()
	capture, err := audiotest.Capture(ctx, "http://"+hostPath, 2*time.Second)
	if err != nil {
		t.Fatalf("listening to the master: %v", err)
	}
	if err := decode(ctx, capture, time.Second); err != nil {
		t.Errorf("the master's stream after the moves: %v", err)
	}
	checkOneConnection(t, env, src)
}

// checkOneConnection checks that the source still runs and connected
// once: it was moved, never disconnected.
func checkOneConnection(t *testing.T, env *liveEnv, src *testenv.Proc) {
	t.Helper()
	select {
	case <-src.Done():
		t.Fatalf("the source was disconnected:\n%s", src.Output())
	default:
	}
	if v := metricValue(t, env.reg, "autoradio_source_connections_total", "result", "accepted"); v != 1 {
		t.Errorf("accepted source connections = %v, want 1: the source reconnected", v)
	}
}

// ffmpegSource streams a live test signal for mount to the Icecast or
// front-end at addr until the test ends.
func ffmpegSource(t *testing.T, addr, mount string) *testenv.Proc {
	t.Helper()
	return testenv.Start(t, "ffmpeg", append(append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"},
		audiotest.EncodeArgs(mount)...), fmt.Sprintf("icecast://%s:%s@%s%s", srcUser, srcPass, addr, mount))...)
}

// A tee whose old master does not read never holds up the source: the
// first write that does not fit in teeWrite ends it.
func TestTeeWriteNeverBlocks(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	fw := &forward{m: m, log: quietLog, master: "old", teeFor: time.Minute}
	conn, peer := net.Pipe() // a write waits for a read that never comes
	defer peer.Close()
	tee := fw.startTee(conn)
	start := time.Now()
	if fw.feedTee(tee, []byte("frame")) != nil {
		t.Fatal("the tee outlived a write that did not fit in its bound")
	}
	if d := time.Since(start); d > testenv.Bound(2*teeWrite) {
		t.Errorf("a write to an old master that does not read took %v, want about %v", d, teeWrite)
	}
	if v := metricValue(t, reg, "autoradio_source_tee_ended_total", "cause", teeWriteFailed); v != 1 {
		t.Errorf("tees ended by a write: %v, want 1", v)
	}
	if fw.old != nil {
		t.Error("the forward still holds the ended tee's connection")
	}
	peer.SetReadDeadline(time.Now().Add(testenv.Bound(time.Second)))
	if _, err := peer.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("the old master's side reads %v, want EOF: the connection was not closed", err)
	}
}
