package httpfe

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"autoradio"
)

const testPassword = "s3cr3t-pa55word"

var quietLog = slog.New(slog.DiscardHandler)

func testMounts() []*autoradio.Mount {
	return []*autoradio.Mount{
		{Name: "/live.ogg", Username: "source-user", Password: testPassword},
		{Name: "/relay.mp3", RelayURL: "http://upstream-user:" + testPassword + "@198.51.100.1:8000/x.mp3"},
	}
}

func testNodes() []*autoradio.NodeStatus {
	return []*autoradio.NodeStatus{{
		Name: "node1", IPs: []string{"192.0.2.1", "2001:db8::1"}, IcecastPort: 8000,
		IcecastOK: true, IsMaster: true, Listeners: 7, MaxListeners: 1000,
		BandwidthBps: 2.5e6, BandwidthLimitBps: 100e6,
		Mounts: []autoradio.MountStatus{{Name: "/live.ogg", Listeners: 5, SourceConnected: true, Title: "Song <One>"}},
	}, {
		Name: "node2", IPs: []string{"192.0.2.2"}, IcecastPort: 8001, IcecastOK: true, Listeners: 4,
		Mounts: []autoradio.MountStatus{{Name: "/live.ogg", Listeners: 4, SourceConnected: true}},
	}}
}

func testCluster() *fakeCluster {
	c := newFakeCluster(testMounts()...)
	c.setNodes(testNodes()...)
	// The master's Icecast is a closed port on loopback: a source
	// forwarded there is refused, and nothing leaves the machine.
	c.setMaster(&autoradio.MasterInfo{Name: "node1", IPs: []string{"127.0.0.1"}, IcecastPort: 1})
	return c
}

func newTestHandler(t testing.TB, cfg Config, c Cluster) (*Handler, *prometheus.Registry) {
	t.Helper()
	if cfg.Domain == "" {
		cfg.Domain = "radio.example.com"
	}
	reg := prometheus.NewRegistry()
	h, err := NewHandler(cfg, c, reg, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, reg
}

func do(h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRedirect(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      Config
		target   string
		v6       bool
		location string
	}{
		{"proxy port 80 omitted", Config{HTTPPort: 80}, "/live.ogg", false, "http://192.0.2.1/_stream/live.ogg"},
		{"proxy own port", Config{HTTPPort: 8080}, "/live.ogg", false, "http://192.0.2.1:8080/_stream/live.ogg"},
		{"query kept", Config{HTTPPort: 80}, "/live.ogg?a=1&b=x%20y", false, "http://192.0.2.1/_stream/live.ogg?a=1&b=x%20y"},
		{"ipv6 bracketed", Config{HTTPPort: 80}, "/live.ogg", true, "http://[2001:db8::1]/_stream/live.ogg"},
		{"ipv6 with port", Config{HTTPPort: 8080}, "/live.ogg", true, "http://[2001:db8::1]:8080/_stream/live.ogg"},
		{"direct to icecast", Config{HTTPPort: 80, DisableProxy: true}, "/live.ogg?x=1", false, "http://192.0.2.1:8000/live.ogg?x=1"},
		{"direct uses the node's Icecast port", Config{HTTPPort: 8080, DisableProxy: true}, "/live.ogg", true, "http://[2001:db8::1]:8000/live.ogg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newTestHandler(t, tc.cfg, testCluster())
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			if tc.v6 {
				local := &net.TCPAddr{IP: net.ParseIP("2001:db8::53"), Port: 80}
				r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusFound {
				t.Fatalf("code %d, want 302", w.Code)
			}
			if got := w.Header().Get("Location"); got != tc.location {
				t.Errorf("Location %q, want %q", got, tc.location)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control %q", got)
			}
		})
	}
}

func TestRedirectErrors(t *testing.T) {
	c := testCluster()
	h, _ := newTestHandler(t, Config{HTTPPort: 80}, c)
	for _, p := range []string{"/nope.ogg", "/live.ogg/", "/../live.ogg", "/_live.ogg", "/a%0Ab"} {
		if w := do(h, http.MethodGet, p); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: code %d, want 404", p, w.Code)
		}
	}
	c.setNodes()
	w := do(h, http.MethodGet, "/live.ogg")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "5" {
		t.Errorf("no node: code %d Retry-After %q, want 503 and 5", w.Code, w.Header().Get("Retry-After"))
	}
}

func TestSourceWithoutForwarding(t *testing.T) {
	c := testCluster()
	h, reg := newTestHandler(t, Config{HTTPPort: 80, DisableProxy: true}, c)
	for _, p := range []string{"/live.ogg", "/_stream/live.ogg"} {
		w := do(h, http.MethodPut, p, "Authorization", basicAuth("u", "p"), "Content-Type", "application/ogg")
		if w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != "http://127.0.0.1:1/live.ogg" {
			t.Errorf("PUT %s with the proxy off: %d to %q, want 307 to the master", p, w.Code, w.Header().Get("Location"))
		}
	}
	// A chunked PUT is forwarded, to be de-chunked: the master here
	// (127.0.0.1:1) cannot be reached.
	r := httptest.NewRequest(http.MethodPut, "/live.ogg", nil)
	r.Header.Set("Authorization", basicAuth("source-user", testPassword))
	r.TransferEncoding = []string{"chunked"}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusBadGateway {
		t.Errorf("chunked PUT with the proxy off: %d to %q, want 502 (forwarded, to an unreachable master)", w.Code, w.Header().Get("Location"))
	}
	for _, m := range []string{http.MethodPut, "SOURCE"} {
		if w := do(h, m, "/nope.ogg"); w.Code != http.StatusNotFound {
			t.Errorf("%s on an unknown mount: %d, want 404", m, w.Code)
		}
	}
	c.setMaster(nil)
	if w := do(h, "SOURCE", "/live.ogg"); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("SOURCE without a master: %d, want 503 with Retry-After", w.Code)
	}
	if v := metricValue(t, reg, "autoradio_source_connections_total", "result", "redirected"); v != 2 {
		t.Errorf("redirected sources = %v, want 2", v)
	}
	if v := metricValue(t, reg, "autoradio_source_connections_total", "result", "no_master"); v != 1 {
		t.Errorf("sources without a master = %v, want 1", v)
	}
	if w := do(h, http.MethodGet, "/_stream/nope.ogg"); w.Code != http.StatusNotFound {
		t.Errorf("stream of an unknown mount: %d, want 404", w.Code)
	}
}

func TestMethods(t *testing.T) {
	h, _ := newTestHandler(t, Config{HTTPPort: 80}, testCluster())
	for _, m := range []string{http.MethodPost, http.MethodDelete, "PATCH", "TRACE", "PROPFIND"} {
		w := do(h, m, "/live.ogg")
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") == "" {
			t.Errorf("%s: code %d Allow %q, want 405 with Allow", m, w.Code, w.Header().Get("Allow"))
		}
	}
	if w := do(h, http.MethodHead, "/live.ogg"); w.Code != http.StatusFound {
		t.Errorf("HEAD: code %d, want 302", w.Code)
	}
	r := httptest.NewRequest(http.MethodGet, "/", strings.NewReader("body"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("GET with a body: code %d, want 413", w.Code)
	}
}

func TestPreflight(t *testing.T) {
	h, _ := newTestHandler(t, Config{HTTPPort: 80}, testCluster())
	for _, p := range []string{"/live.ogg", "/_stream/live.ogg"} {
		w := do(h, http.MethodOptions, p, "Origin", "https://player.example", "Access-Control-Request-Headers", "icy-metadata")
		if w.Code != http.StatusNoContent {
			t.Fatalf("OPTIONS %s: code %d", p, w.Code)
		}
		if w.Header().Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "Icy-MetaData") {
			t.Errorf("OPTIONS %s: CORS headers %v", p, w.Header())
		}
	}
	if w := do(h, http.MethodOptions, "/_stream/nope.ogg"); w.Code != http.StatusNotFound {
		t.Errorf("OPTIONS on an unknown mount: code %d, want 404", w.Code)
	}
}

func TestPlaylists(t *testing.T) {
	h, _ := newTestHandler(t, Config{HTTPPort: 8080}, testCluster())
	for _, tc := range []struct{ target, host, ctype, want string }{
		{"/live.ogg.m3u", "radio.example.com", "audio/x-mpegurl", "http://radio.example.com/live.ogg\n"},
		{"/live.ogg.m3u", "Radio.Example.com:8080", "audio/x-mpegurl", "http://radio.example.com:8080/live.ogg\n"},
		{"/live.ogg.m3u", "[2001:db8::1]:8080", "audio/x-mpegurl", "http://[2001:db8::1]:8080/live.ogg\n"},
		{"/live.ogg.m3u", "evil.com/x?<script>", "audio/x-mpegurl", "http://radio.example.com:8080/live.ogg\n"},
		{"/live.ogg.m3u", "a b", "audio/x-mpegurl", "http://radio.example.com:8080/live.ogg\n"},
		{"/live.ogg.m3u", "host:99999", "audio/x-mpegurl", "http://radio.example.com:8080/live.ogg\n"},
		{"/live.ogg.m3u", "node2.radio.example.com.:8080", "audio/x-mpegurl", "http://node2.radio.example.com.:8080/live.ogg\n"},
		{"/live.ogg.m3u", "192.0.2.2", "audio/x-mpegurl", "http://192.0.2.2/live.ogg\n"},
		// Not the cluster's: a host the request chose is never echoed.
		{"/live.ogg.m3u", "evil.example", "audio/x-mpegurl", "http://radio.example.com:8080/live.ogg\n"},
		{"/live.ogg.m3u", "radio.example.com.evil.example:8080", "audio/x-mpegurl", "http://radio.example.com:8080/live.ogg\n"},
		{"/live.ogg.m3u", "xradio.example.com", "audio/x-mpegurl", "http://radio.example.com:8080/live.ogg\n"},
		{"/live.ogg.pls", "192.0.2.9", "audio/x-scpls",
			"[playlist]\nNumberOfEntries=1\nFile1=http://radio.example.com:8080/live.ogg\nTitle1=live.ogg\nLength1=-1\nVersion=2\n"},
		{"/live.ogg.pls", "192.0.2.1:8080", "audio/x-scpls",
			"[playlist]\nNumberOfEntries=1\nFile1=http://192.0.2.1:8080/live.ogg\nTitle1=live.ogg\nLength1=-1\nVersion=2\n"},
	} {
		r := httptest.NewRequest(http.MethodGet, tc.target, nil)
		r.Host = tc.host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != tc.ctype || w.Body.String() != tc.want {
			t.Errorf("%s Host %q: %d %q %q, want 200 %q %q", tc.target, tc.host, w.Code,
				w.Header().Get("Content-Type"), w.Body.String(), tc.ctype, tc.want)
		}
	}
	if w := do(h, http.MethodGet, "/nope.ogg.pls"); w.Code != http.StatusNotFound {
		t.Errorf("playlist of an unknown mount: code %d, want 404", w.Code)
	}
}

func TestStatus(t *testing.T) {
	h, _ := newTestHandler(t, Config{HTTPPort: 80}, testCluster())
	w := do(h, http.MethodGet, "/_status.json")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status JSON: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	assertNoSecrets(t, w.Body.String())
	var st Status
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Master != "node1" || len(st.Nodes) != 2 || len(st.Mounts) != 2 || st.Listeners != 11 {
		t.Fatalf("status %+v", st)
	}
	live := st.Mounts[0]
	if live.Path != "/live.ogg" || live.Listeners != 9 || !live.Live || live.Title != "Song <One>" {
		t.Errorf("mount view %+v", live)
	}
	if relay := st.Mounts[1]; !relay.Relay || relay.Live {
		t.Errorf("relay mount view %+v", relay)
	}

	w = do(h, http.MethodGet, "/")
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status page: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	assertNoSecrets(t, body)
	for _, want := range []string{`name="viewport"`, "/live.ogg", "Song &lt;One&gt;", ">9<", "node1", "node2", "(master)", "2.5</span> / 100.0"} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
}

func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{testPassword, "source-user", "upstream-user", "password", "username"} {
		if strings.Contains(s, secret) {
			t.Errorf("output contains %q", secret)
		}
	}
}

func TestMetricsLint(t *testing.T) {
	h, reg := newTestHandler(t, Config{HTTPPort: 80}, testCluster())
	do(h, http.MethodGet, "/live.ogg")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
	if v := metricValue(t, reg, "autoradio_http_requests_total", "kind", "redirect", "code", "302"); v != 1 {
		t.Errorf("redirect requests = %v, want 1", v)
	}
	if v := metricValue(t, reg, "autoradio_http_redirects_total", "node", "node1"); v != 1 {
		t.Errorf("redirects to node1 = %v, want 1", v)
	}
}

// metricValue returns the value of the series of name with the given label
// pairs (-1 when absent).
func metricValue(t testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	return -1
}

// startServer runs a Server on 127.0.0.1:0 until the test ends.
func startServer(t testing.TB, cfg Config, c Cluster) (*Server, *prometheus.Registry) {
	t.Helper()
	return startServerLog(t, cfg, c, quietLog)
}

// startServerLog is startServer with a logger.
func startServerLog(t testing.TB, cfg Config, c Cluster, log *slog.Logger) (*Server, *prometheus.Registry) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Domain == "" {
		cfg.Domain = "radio.example.com"
	}
	reg := prometheus.NewRegistry()
	s, err := New(cfg, c, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s, reg
}

func TestServerHeaderLimit(t *testing.T) {
	s, _ := startServer(t, Config{MaxHeaderBytes: 4 << 10}, testCluster())
	conn, err := net.DialTimeout("tcp", s.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	big := strings.Repeat("x", 64<<10)
	io.WriteString(conn, "GET /live.ogg HTTP/1.1\r\nHost: a\r\nX-Big: "+big+"\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("code %d, want 431", resp.StatusCode)
	}
}

func TestServerRedirectUsesBoundPort(t *testing.T) {
	s, _ := startServer(t, Config{}, testCluster())
	port := s.Addr().(*net.TCPAddr).Port
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Get("http://" + s.Addr().String() + "/live.ogg")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := fmt.Sprintf("http://192.0.2.1:%d/_stream/live.ogg", port)
	if got := resp.Header.Get("Location"); got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
}
