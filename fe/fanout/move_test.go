package fanout

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// view is a cluster view for a feed's moves: whether the local Icecast
// serves the mount live, and which other nodes do. It counts the checks.
type view struct {
	mu        sync.Mutex
	localLive bool
	others    []Other
	checks    int
}

func (v *view) set(localLive bool, others ...Other) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.localLive, v.others = localLive, others
}

func (v *view) LocalLive(string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.checks++
	return v.localLive
}

func (v *view) Others(string) []Other {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.others
}

func (v *view) checked() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.checks
}

// TestFeedLeavesUpstreamNotLive: a feed reading the local Icecast (a),
// which still streams but is no longer live (its node steps aside for a
// handover), moves to the first other node (b) before a is disconnected;
// when b leaves the live nodes in turn, to the next (c); back to a once it
// is live again; and with nothing else streaming, it stays on a. The
// listener connected all along gets one stream, every byte once, that
// ffmpeg decodes without an error.
func TestFeedLeavesUpstreamNotLive(t *testing.T) {
	seed := readSeed(t, "seed.mp3", 60)
	start := time.Now()
	const rate = 50 << 10 // bytes a second: the seed lasts about 10 s
	live := func() int { return 8<<10 + int(time.Since(start).Seconds()*rate) }
	upstream := func(down bool) *liveUpstream {
		return &liveUpstream{data: seed, live: live, burst: 48 << 10, down: down}
	}
	a, b, c, d := upstream(false), upstream(false), upstream(false), upstream(true)
	v := &view{localLive: true, others: []Other{{"b", b}, {"c", c}}}
	reg := prometheus.NewRegistry()
	f, err := New(Config{
		Upstream: a, Others: v.Others, LocalLive: v.LocalLive,
		WindowSize: 256 << 10, Burst: 8 << 10,
		ReadTimeout: time.Second, ReadyTimeout: time.Second, WriteTimeout: time.Second, HeadTimeout: time.Second,
		Grace: 10 * time.Millisecond, Reconnect: 5 * time.Second, ProbeInterval: 50 * time.Millisecond,
	}, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	url := serveFanout(t, f, "127.0.0.151")
	ctx := testenv.Context(t, time.Minute)
	l := audiotest.Listen(ctx, url+"/live.mp3")
	defer l.Stop()
	if err := l.WaitBytes(0, 16<<10, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ups := map[string]*liveUpstream{"a": a, "b": b, "c": c}
	// reading waits until the feed reads name's stream and no other, the
	// listener still connected, and has counted moves moves to each.
	reading := func(name string, moves map[string]float64) {
		t.Helper()
		testenv.Eventually(t, 10*time.Second, func() error {
			if err := l.Err(); err != nil {
				return fmt.Errorf("listener: %w", err)
			}
			for n, u := range ups {
				if want := map[bool]int{true: 1}[n == name]; u.streaming() != want {
					return fmt.Errorf("%s streams to %d clients, want %d", n, u.streaming(), want)
				}
			}
			for to, want := range moves {
				if n := counterValue(t, f.m.moves.WithLabelValues(to)); n != want {
					return fmt.Errorf("%v moves to %s, want %v", n, to, want)
				}
			}
			return nil
		})
	}
	reading("a", map[string]float64{"other": 0, "local": 0})
	v.set(false, Other{"b", b}, Other{"c", c})
	reading("b", map[string]float64{"other": 1, "local": 0})
	v.set(false, Other{"c", c})
	reading("c", map[string]float64{"other": 2, "local": 0})
	v.set(true)
	reading("a", map[string]float64{"other": 2, "local": 1})

	// Nothing else streams: d, live as far as the view knows, refuses.
	v.set(false, Other{"d", d})
	checks := v.checked()
	testenv.Eventually(t, 10*time.Second, func() error {
		if n := v.checked() - checks; n < 5 {
			return fmt.Errorf("%d checks of the local Icecast, want 5", n)
		}
		return nil
	})
	reading("a", map[string]float64{"other": 2, "local": 1})
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
	if n := counterValue(t, f.m.splices.WithLabelValues(splicedJoin)); n != 0 {
		t.Errorf("%v splices lost audio, want none", n)
	}
	if err := audiotest.DecodeJoined(ctx, got, time.Second); err != nil {
		t.Error(err)
	}
}

// serveFanout serves f's streams on ip, at the URL it returns, until the
// test ends.
func serveFanout(t *testing.T, f *Fanout, ip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.Serve(w, r, r.URL.Path, 0)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		f.Close()
		srv.Close()
	})
	return srv.URL
}
