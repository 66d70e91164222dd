package e2e

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// The front-ends' logs of a feed's moves to a tap and back to an Icecast
// (package fe/fanout).
const (
	logToTap  = "streaming a mount from its source, at a front-end's tap"
	logToIce  = "streaming a mount from the local Icecast again"
	logToNode = "streaming a mount from another node"
)

// TestKilledMasterListenersRideTap: the master's host dies (radiod,
// Icecast and front-end killed) while the source streams through the
// second node's front-end. The relays of the surviving nodes lose their
// source and play the fallback; their front-ends' listeners get the
// stream from the source itself, at the front-end that holds it (its
// tap), until a new master serves the mount and the relays follow, and
// then from their Icecast again. The listeners stay connected and their
// audio decodes; the longest time without data and the longest silence
// each heard are logged.
func TestKilledMasterListenersRideTap(t *testing.T) {
	testMasterLost(t, []string{"127.0.0.171", "127.0.0.172", "127.0.0.173"}, func(r *ct.Radiod, fe *ct.Redirectord) {
		r.KillHost()
		fe.Proc.Kill()
	})
}

// TestFrozenMasterListenersRideTap: the same with the master's host
// frozen (radiod, Icecast and front-end stopped with SIGSTOP), as one cut
// off is for the others: its connections stay open and send nothing, so
// the relays stall rather than play the fallback, and the front-ends see
// the stall.
func TestFrozenMasterListenersRideTap(t *testing.T) {
	testMasterLost(t, []string{"127.0.0.175", "127.0.0.176", "127.0.0.177"}, func(r *ct.Radiod, fe *ct.Redirectord) {
		pids := []int{r.Proc.PID(), r.IcecastPID(), fe.Proc.PID()}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGSTOP)
		}
		// A frozen process ignores SIGTERM: the host dies at the end.
		t.Cleanup(func() {
			r.KillHost()
			fe.Proc.Kill()
		})
	})
}

// testMasterLost starts three nodes on ips, the first master, with the
// source on the second node's front-end, loses the master's host with
// lose, and checks the surviving nodes' listeners.
func testMasterLost(t *testing.T, ips []string, lose func(*ct.Radiod, *ct.Redirectord)) {
	h := startHandoverCluster(t, ips, 2*time.Minute)
	old, oldFE := h.radiods[0], h.fes[0]
	// Only the surviving nodes' listeners count.
	h.listeners[0].Stop()
	h.listeners, h.fes = h.listeners[1:], h.fes[1:]
	before := marks(h.listeners)

	gaps := watchGaps(h.ctx, h.listeners)
	lose(old, oldFE)
	killed := time.Now()
	next := ct.WaitMaster(t, h.c, ct.SessionTTL+10*time.Second, h.radiods[1].Name, h.radiods[2].Name)
	t.Logf("%s master %v after the loss", next, time.Since(killed).Round(time.Millisecond))
	testenv.Eventually(t, 20*time.Second, func() error { return mountLiveOn(h.c, h.m.Name, 2) })
	// Each surviving front-end went to a tap, and left it for an Icecast.
	for _, f := range h.fes {
		testenv.Eventually(t, 20*time.Second, func() error {
			out := f.Proc.Output()
			i := strings.Index(out, logToTap)
			if i < 0 {
				return fmt.Errorf("%s never streamed from a tap:\n%s", f.Name, out)
			}
			if !strings.Contains(out[i:], logToIce) && !strings.Contains(out[i:], logToNode) {
				return fmt.Errorf("%s still streams from a tap", f.Name)
			}
			return nil
		})
	}
	t.Logf("listeners back on an Icecast %v after the loss", time.Since(killed).Round(time.Millisecond))
	for _, f := range h.fes {
		for _, line := range strings.Split(f.Proc.Output(), "\n") {
			if strings.Contains(line, "streaming a mount") {
				t.Logf("%s: %s", f.Name, line)
			}
		}
	}
	for i, g := range gaps() {
		t.Logf("listener on %s: longest time without data since the loss %v", h.fes[i].Name, g.Round(10*time.Millisecond))
	}
	h.checkListeners(t, before)
	for i, l := range h.listeners {
		broken, err := brokenFrames(h.ctx, l.DataSince(before[i]))
		if err != nil {
			t.Errorf("listener on %s: %v", h.fes[i].Name, err)
		}
		t.Logf("listener on %s: %d broken frames", h.fes[i].Name, broken)
	}
}

// watchGaps follows the listeners' byte counts every 10 ms until stop is
// called, and stop returns the longest time each went without data.
func watchGaps(ctx context.Context, ls []*audiotest.Listener) (stop func() []time.Duration) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan []time.Duration, 1)
	go func() {
		longest := make([]time.Duration, len(ls))
		last, since := make([]int, len(ls)), make([]time.Time, len(ls))
		for i, l := range ls {
			last[i], since[i] = l.Bytes(), time.Now()
		}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				done <- longest
				return
			case now := <-t.C:
				for i, l := range ls {
					if n := l.Bytes(); n != last[i] {
						last[i], since[i] = n, now
					}
					longest[i] = max(longest[i], now.Sub(since[i]))
				}
			}
		}
	}()
	return func() []time.Duration {
		cancel()
		return <-done
	}
}

// maxBrokenFrames bounds the MP3 frames a listener may get cut across a
// master's death: one or two where its Icecast switches to the fallback
// (as Icecast does), one where the feed leaves the fallback for the tap
// (the splicer joins the tap at a frame, after the fallback's last
// bytes), one more for a move between nodes' Icecasts on the way.
const maxBrokenFrames = 4

// brokenFrames decodes an MP3 capture with ffmpeg and returns how many
// frames it could not decode; an error when ffmpeg reports anything but
// the MP3 decoder's errors, or more than maxBrokenFrames.
func brokenFrames(ctx context.Context, data []byte) (int, error) {
	err := audiotest.DecodeJoined(ctx, data, 5*time.Second)
	if err == nil {
		return 0, nil
	}
	n := 0
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "decode: ffmpeg reported errors:"))
		switch {
		case strings.HasPrefix(line, "Error while decoding stream"):
			n++
		case strings.HasPrefix(line, "[mp3"):
		default:
			return n, err
		}
	}
	if n > maxBrokenFrames {
		return n, err
	}
	return n, nil
}
