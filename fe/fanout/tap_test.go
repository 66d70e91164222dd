package fanout

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// masterView is the cluster view of feeds that may move to a tap: the
// master of the moment, and which Icecasts serve the mount under it.
type masterView struct {
	mu      sync.Mutex
	master  string
	local   bool // the local Icecast serves it under master
	healthy int  // calls of Healthy
}

func (v *masterView) set(master string, local bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.master, v.local = master, local
}

func (v *masterView) Master() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.master
}

func (v *masterView) Healthy(_, since string) (bool, []Other) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.healthy++
	if v.master == since {
		return false, nil
	}
	return v.local, nil
}

func (v *masterView) calls() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.healthy
}

// TestFeedRidesStallOnTap: a feed whose local Icecast (a) stalls moves
// to the source's tap; it does not go back to a while the master has
// not changed, even when a streams and reports the mount live again; it
// does once a new master is elected and a serves the mount under it.
// Told that the local Icecast lost its relays, it moves to the tap at
// once. When a stalls again it moves to the tap again, and when the tap ends
// (the source left) it reconnects to a the usual way. The listener
// connected all along gets the stream, every byte once, decodable, and
// the feed moved only as often as said.
func TestFeedRidesStallOnTap(t *testing.T) {
	seed := readSeed(t, "seed.mp3", 60)
	start := time.Now()
	const rate = 32 << 10 // bytes a second: the seed lasts about 15 s
	live := func() int { return 8<<10 + int(time.Since(start).Seconds()*rate) }
	a := &liveUpstream{data: seed, live: live, burst: 48 << 10}
	tp := &liveUpstream{data: seed, live: live, burst: 48 << 10}
	v := &masterView{master: "m1", local: true}
	reg := prometheus.NewRegistry()
	f, err := New(Config{
		Upstream: a, LocalLive: func(string) bool { return true },
		Taps:   func(string) []Other { return []Other{{"n1", tp}} },
		Master: v.Master, Healthy: v.Healthy,
		StallTimeout: 300 * time.Millisecond,
		WindowSize:   256 << 10, Burst: 8 << 10,
		ReadTimeout: 5 * time.Second, ReadyTimeout: time.Second, WriteTimeout: time.Second, HeadTimeout: time.Second,
		Grace: 10 * time.Millisecond, Reconnect: 5 * time.Second, ProbeInterval: 50 * time.Millisecond,
	}, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	url := serveFanout(t, f, "127.0.0.171")
	ctx := testenv.Context(t, time.Minute)
	l := audiotest.Listen(ctx, url+"/live.mp3")
	defer l.Stop()
	if err := l.WaitBytes(0, 16<<10, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// reading waits until the tap streams to tapConns clients (a's
	// clients, stalled, do not notice that they left), a was opened
	// aOpens times, and the feed has moved moves times to each.
	reading := func(aOpens, tapConns int, moves map[string]float64) {
		t.Helper()
		testenv.Eventually(t, 10*time.Second, func() error {
			if err := l.Err(); err != nil {
				return fmt.Errorf("listener: %w", err)
			}
			if tp.streaming() != tapConns {
				return fmt.Errorf("the tap streams to %d clients, want %d", tp.streaming(), tapConns)
			}
			if n := a.opened(); n != aOpens {
				return fmt.Errorf("a was opened %d times, want %d", n, aOpens)
			}
			for to, want := range moves {
				if n := counterValue(t, f.m.moves.WithLabelValues(to)); n != want {
					return fmt.Errorf("%v moves to %s, want %v", n, to, want)
				}
			}
			return nil
		})
	}
	reading(1, 0, map[string]float64{"tap": 0, "local": 0})

	a.setStalled(true)
	reading(1, 1, map[string]float64{"tap": 1, "local": 0})

	// a streams again, but the master is the one of the stall.
	a.setStalled(false)
	calls := v.calls()
	testenv.Eventually(t, 10*time.Second, func() error {
		if n := v.calls() - calls; n < 5 {
			return fmt.Errorf("%d checks of the Icecasts' health, want 5", n)
		}
		return nil
	})
	reading(1, 1, map[string]float64{"tap": 1, "local": 0})

	v.set("m2", true)
	reading(2, 0, map[string]float64{"tap": 1, "local": 1})

	// radiod says that the local Icecast lost its relays: to the tap at
	// once, although a still sends (it would play its fallback), and
	// back under a new master.
	f.LocalLost()
	reading(2, 1, map[string]float64{"tap": 2, "local": 1})
	v.set("m3", true)
	reading(3, 0, map[string]float64{"tap": 2, "local": 2})

	// Again; then the source leaves: the tap ends.
	a.setStalled(true)
	reading(3, 1, map[string]float64{"tap": 3, "local": 2})
	a.setStalled(false)
	tp.setDown(true)
	reading(4, 0, map[string]float64{"tap": 3, "local": 2})
	mark := l.Mark()
	if err := l.WaitBytes(mark, 16<<10, 10*time.Second); err != nil {
		t.Fatalf("after the moves: %v", err)
	}

	got := l.Stop()
	if err := l.Err(); err != nil {
		t.Errorf("the listener was disconnected: %v", err)
	}
	i := bytes.Index(seed, got[:64])
	if i < 0 || !bytes.Equal(got, seed[i:i+len(got)]) {
		t.Errorf("the listener's %d bytes are not the stream, every byte once", len(got))
	}
	if err := audiotest.DecodeJoined(ctx, got, time.Second); err != nil {
		t.Error(err)
	}
}
