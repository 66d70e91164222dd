package httpfe

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

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
	ffmpegSource := func(addr string) *testenv.Proc {
		return testenv.Start(t, "ffmpeg", append(append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"},
			audiotest.EncodeArgs(mount)...), fmt.Sprintf("icecast://%s:%s@%s%s", srcUser, srcPass, addr, mount))...)
	}
	squatter := ffmpegSource(newIC.addr)
	newIC.waitSource(ctx, t, mount)
	src := ffmpegSource(env.fe)
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
	select {
	case <-src.Done():
		t.Fatalf("the source was disconnected:\n%s", src.Output())
	default:
	}
	if v := metricValue(t, env.reg, "autoradio_source_connections_total", "result", "accepted"); v != 1 {
		t.Errorf("accepted source connections = %v, want 1: the source reconnected", v)
	}
	for _, c := range []string{teeWriteFailed, teeBound, teeMasterChanged, teeSourceEnded} {
		if v := metricValue(t, env.reg, "autoradio_source_tee_ended_total", "cause", c); v != 0 {
			t.Errorf("tees ended for %s: %v, want 0", c, v)
		}
	}
	if strings.Contains(logs.String(), srcPass) {
		t.Errorf("the source's password is in the log:\n%s", logs)
	}
}
