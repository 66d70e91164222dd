package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"autoradio/internal/audiotest"
	"autoradio/internal/browsertest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// hlsPage plays the HLS of %q with hls.js in an <audio> element, and keeps
// what the test script reads: currentTime every 100 ms, the fragments
// loaded, the errors.
const hlsPage = `<!doctype html>
<meta charset="utf-8"><title>HLS</title>
<audio id="a"></audio>
<script src="/hls.js"></script>
<script>
const audio = document.getElementById("a");
const player = window.player = {audio, samples: [], frags: [], errors: []};
const hls = new Hls();
hls.on(Hls.Events.FRAG_LOADED, (_, d) => player.frags.push({t: performance.now(), url: d.frag.url}));
hls.on(Hls.Events.ERROR, (_, d) => player.errors.push({t: Math.round(performance.now()), details: d.details, fatal: d.fatal}));
hls.loadSource(%q);
hls.attachMedia(audio);
audio.play();
setInterval(() => player.samples.push([performance.now(), audio.currentTime]), 100);
</script>
`

// TestHLSBrowserFailover plays a mount's HLS with hls.js in headless
// Chromium, from a page of another origin, then kills the front-end that
// serves it: playback goes on from the redundant variant on the other
// node, without a stall longer than a target duration.
func TestHLSBrowserFailover(t *testing.T) {
	browsertest.Require(t)
	p := startPair(t, []string{"127.0.0.116", "127.0.0.117"})
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Bound(3*time.Minute))
	defer cancel()
	// The source goes straight to the master's Icecast, so that it
	// outlives either front-end.
	m := ct.NewMount(t, "/web.mp3")
	if err := p.c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	audiotest.Source(t, ct.SourceURL(p.r1.Addr(), m))
	p.r1.WaitSource(15*time.Second, m.Name)
	testenv.Eventually(t, 15*time.Second, func() error { return mountLiveOn(p.c, m.Name, 2) })

	var mu sync.Mutex
	var killed string
	fes := map[string]*ct.Redirectord{p.addr(p.f1): p.f1, p.addr(p.f2): p.f2}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, hlsPage, p.f1.URL(m.Name+".m3u8"))
	})
	mux.HandleFunc("/hls.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(browsertest.Dir(), "node_modules", "hls.js", "dist", "hls.min.js"))
	})
	mux.HandleFunc("/kill", func(w http.ResponseWriter, r *http.Request) {
		f, ok := fes[r.URL.Query().Get("host")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		f.Proc.Kill()
		mu.Lock()
		killed = f.Name
		mu.Unlock()
	})
	ln, err := net.Listen("tcp", "127.0.0.118:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	out := browsertest.Script(ctx, t, "hls_failover.mjs", "http://"+ln.Addr().String()+"/", "25")
	var res struct {
		Host             string
		PlayedBeforeKill float64
		PlayedAfterKill  float64
		MaxStallMs       int
		HostsAfter       []string
		Errors           []map[string]any
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("script output %s: %v", out, err)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("played %.1f s from %s (%s), killed it; then %.1f s from %v, longest stall %d ms; %d errors",
		res.PlayedBeforeKill, res.Host, killed, res.PlayedAfterKill, res.HostsAfter, res.MaxStallMs, len(res.Errors))
	if killed == "" {
		t.Fatal("no front-end was killed")
	}
	if len(res.HostsAfter) == 0 || slices.Contains(res.HostsAfter, res.Host) {
		t.Errorf("fragments after the kill from %v, want the other node's only", res.HostsAfter)
	}
	if res.PlayedAfterKill < 20 {
		t.Errorf("played %.1f s in the 25 s after the kill", res.PlayedAfterKill)
	}
	if target := 4000; res.MaxStallMs > target {
		t.Errorf("playback stalled %d ms after the kill, want at most a target duration (%d ms); errors %v", res.MaxStallMs, target, res.Errors)
	}
}
