package statuspage

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"autoradio"
	"autoradio/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// cluster is a Cluster whose state the test sets.
type cluster struct {
	mu     sync.Mutex
	mounts []*autoradio.Mount
	nodes  []*autoradio.NodeStatus
	master string
}

func (c *cluster) Mounts() []*autoradio.Mount {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mounts
}

func (c *cluster) Nodes() []*autoradio.NodeStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes
}

func (c *cluster) Master() (*autoradio.MasterInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &autoradio.MasterInfo{Name: c.master}, c.master != ""
}

// setTitle sets a mount's title and listeners on node1.
func (c *cluster) set(mount, title string, listeners int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := *c.nodes[0]
	n.Mounts = append([]autoradio.MountStatus(nil), n.Mounts...)
	for i := range n.Mounts {
		if n.Mounts[i].Name == mount {
			n.Listeners += listeners - n.Mounts[i].Listeners
			n.Mounts[i].Title, n.Mounts[i].Listeners = title, listeners
		}
	}
	c.nodes = append([]*autoradio.NodeStatus{&n}, c.nodes[1:]...)
}

const secret = "s3cret-password"

func testCluster() *cluster {
	return &cluster{
		master: "node1",
		mounts: []*autoradio.Mount{
			{Name: "/live.mp3", Username: "source", Password: secret},
			{Name: "/relay.ogg", Username: "source", Password: secret, RelayURL: "http://u:" + secret + "@upstream.example/x.ogg"},
		},
		nodes: []*autoradio.NodeStatus{
			{Name: "node1", IPs: []string{"127.0.0.101"}, IsMaster: true, IcecastOK: true, Listeners: 4, BandwidthBps: 512e3,
				Mounts: []autoradio.MountStatus{{Name: "/live.mp3", Listeners: 4, SourceConnected: true, BitrateKbps: 128, Title: "Tom & Jerry <live>"}}},
			{Name: "node2", IPs: []string{"127.0.0.102"}, IcecastOK: true, Listeners: 3, BandwidthBps: 384e3, Draining: true,
				Mounts: []autoradio.MountStatus{{Name: "/live.mp3", Listeners: 3, SourceConnected: true}}},
		},
	}
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, w.Code, w.Body)
	}
	return w
}

func TestPage(t *testing.T) {
	c := testCluster()
	p := New(Config{Domain: "radio.example.com", HLS: func(m *autoradio.Mount) bool { return m.Name == "/live.mp3" }}, c)
	p.hist.add(time.Now().Add(-time.Minute), Build(c, nil))
	c.set("/live.mp3", "Tom & Jerry <live>", 6)
	p.hist.add(time.Now(), Build(c, nil))
	body := get(t, p, "/").Body.String()
	for _, want := range []string{
		`name="viewport"`, "prefers-color-scheme",
		"Tom &amp; Jerry &lt;live&gt;", // escaped once
		`<source src="/live.mp3" type="audio/mpeg">`, `<source src="/live.mp3.m3u8"`,
		`href="/live.mp3.m3u"`, `href="/live.mp3.pls"`, `href="/live.mp3.m3u8"`, `href="/relay.ogg.pls"`,
		"node1: 6, node2: 3", "peak today <span class=\"peak\">9</span>", "1 drained", "(draining)",
		"MP3", "128 kbit/s", "Ogg Vorbis", "<noscript>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"&amp;amp;", "&amp;lt;", secret, "upstream.example", `/relay.ogg.m3u8`, "http://", "https://"} {
		if strings.Contains(body, bad) {
			t.Errorf("page has %q", bad)
		}
	}
	if n := strings.Count(body, "<polyline points=\"0.0,"); n != 3 {
		t.Errorf("%d graphs with points, want 3 (total and two mounts)", n)
	}
	// The whole page, with everything it needs, within a small budget.
	const budget = 16 << 10
	if len(body) > budget {
		t.Errorf("the page is %d bytes, over its budget of %d", len(body), budget)
	}
	if n := len(pageHTML) + len(pageCSS) + len(pageJS); n > 12<<10 {
		t.Errorf("the page's assets are %d bytes, over their budget of 12 KiB", n)
	}
}

func TestJSON(t *testing.T) {
	c := testCluster()
	p := New(Config{}, c)
	var st Status
	w := get(t, p, StatusPath)
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Listeners != 7 || st.NodesUp != 2 || st.Drained != 1 || st.BandwidthBps != 896e3 || st.Mounts[0].Title != "Tom & Jerry <live>" {
		t.Errorf("status %+v", st)
	}
	var np TitleEvent
	w = get(t, p, "/_nowplaying/live.mp3")
	if err := json.Unmarshal(w.Body.Bytes(), &np); err != nil {
		t.Fatal(err)
	}
	if w.Header().Get("Access-Control-Allow-Origin") != "*" || np != (TitleEvent{Mount: "/live.mp3", Title: "Tom & Jerry <live>", Live: true, Listeners: 7, BitrateKbps: 128, Codec: "MP3"}) {
		t.Errorf("now playing: %+v, headers %v", np, w.Header())
	}
	var all []TitleEvent
	if err := json.Unmarshal(get(t, p, NowPlayingPath).Body.Bytes(), &all); err != nil || len(all) != 2 {
		t.Errorf("now playing of every mount: %v, %v", all, err)
	}
	w = httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/_nowplaying/nope.mp3", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("now playing of an unknown mount: %d", w.Code)
	}
	for _, path := range []string{StatusPath, NowPlayingPath, "/_nowplaying/live.mp3", "/", HistoryPath} {
		if body := get(t, p, path).Body.String(); strings.Contains(body, secret) || strings.Contains(body, "upstream.example") {
			t.Errorf("%s shows a credential", path)
		}
	}
}

func TestPeaks(t *testing.T) {
	h := newHistory(time.Minute, 10)
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	st := func(n int) Status {
		return Status{Listeners: n, Mounts: []MountView{{Path: "/a", Listeners: n}}}
	}
	h.add(day.Add(-time.Minute), st(50)) // yesterday
	h.add(day.Add(time.Minute), st(7))
	h.add(day.Add(2*time.Minute), st(3))
	if p := h.peaks(day.Add(3 * time.Minute)); p[""] != 7 || p["/a"] != 7 {
		t.Errorf("peaks %v, want 7", p)
	}
	for i := range 20 {
		h.add(day.Add(time.Duration(3+i)*time.Minute), st(i))
	}
	if d := h.data(); len(d.Points) != 10 || d.Points[9].Total != 19 || d.IntervalSeconds != 60 {
		t.Errorf("ring holds %d points, last %+v", len(d.Points), d.Points[len(d.Points)-1])
	}
}

// serve serves h on ip until the test ends and returns its port.
func serve(t *testing.T, ip string, h http.Handler) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().(*net.TCPAddr).Port
}

// run runs p until the test ends.
func run(t *testing.T, p *Page) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestHistorySeededFromAPeer(t *testing.T) {
	// node1's front-end has been sampling for a while.
	c := testCluster()
	peer := New(Config{NodeName: "node1"}, c)
	now := time.Now()
	for i := 5; i > 0; i-- {
		peer.hist.add(now.Add(-time.Duration(i)*time.Minute), Build(c, nil))
	}
	port := serve(t, "127.0.0.101", peer)
	// node2's restarts, before it knows the other nodes, and goes on
	// from there.
	nodes := c.nodes
	c.mu.Lock()
	c.nodes = nil
	c.mu.Unlock()
	p := New(Config{NodeName: "node2", HTTPPort: port, HistoryInterval: time.Second}, c)
	run(t, p)
	testenv.Eventually(t, 10*time.Second, func() error {
		if len(p.hist.data().Points) == 0 {
			return fmt.Errorf("no sample yet")
		}
		return nil
	})
	c.mu.Lock()
	c.nodes = nodes
	c.mu.Unlock()
	testenv.Eventually(t, 10*time.Second, func() error {
		var d HistoryData
		if err := json.Unmarshal(get(t, p, HistoryPath).Body.Bytes(), &d); err != nil {
			return err
		}
		if len(d.Points) == 0 {
			return fmt.Errorf("empty history")
		}
		if len(d.Points) < 7 || d.Points[0].T != now.Add(-5*time.Minute).Unix() || d.Points[5].Mounts["/live.mp3"] != 0 || d.Points[0].Mounts["/live.mp3"] != 7 {
			return fmt.Errorf("history of %d points, the first %+v: want the peer's five points and two of its own", len(d.Points), d.Points[0])
		}
		return nil
	})
}

// sse reads server-sent events.
type sse struct{ r *bufio.Reader }

func (s sse) next() (name, data string, err error) {
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		switch line = strings.TrimRight(line, "\n"); {
		case line == "" && name != "":
			return name, data, nil
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}

// until reads events until one named name has data containing want.
func (s sse) until(name, want string) error {
	for {
		n, d, err := s.next()
		if err != nil {
			return fmt.Errorf("waiting for %s event with %q: %w", name, want, err)
		}
		if n == name && strings.Contains(d, want) {
			return nil
		}
	}
}

func TestEvents(t *testing.T) {
	c := testCluster()
	p := New(Config{EventInterval: 20 * time.Millisecond, MaxSubscribers: 2}, c)
	run(t, p)
	port := serve(t, "127.0.0.101", p)
	ctx := testenv.Context(t, 10*time.Second)
	open := func(query string) sse {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.101:%d%s%s", port, EventsPath, query), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("event stream headers: %v", resp.Header)
		}
		return sse{bufio.NewReader(resp.Body)}
	}
	all, one := open(""), open("?mount=/live.mp3")
	// A third is one too many.
	w := httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest(http.MethodGet, EventsPath, nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("a third event stream: %d, want 503", w.Code)
	}
	// The current state comes first.
	if err := all.until("title", `"title":"Tom \u0026 Jerry \u003clive\u003e"`); err != nil {
		t.Fatal(err)
	}
	if err := all.until("status", `"listeners":7`); err != nil {
		t.Fatal(err)
	}
	c.set("/live.mp3", "Next song", 5)
	if err := all.until("title", `"title":"Next song"`); err != nil {
		t.Fatal(err)
	}
	// The filtered stream has only events of its mount.
	var title, listeners bool
	for !title || !listeners {
		n, d, err := one.next()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(d, `"mount":"/live.mp3"`) {
			t.Fatalf("filtered stream sent %s %s", n, d)
		}
		title = title || n == "title" && strings.Contains(d, "Next song")
		listeners = listeners || n == "listeners" && d == `{"mount":"/live.mp3","listeners":8,"total":8}`
	}
}
