package httpfe

import (
	"net/http"
	"regexp"
	"testing"
)

// TestMultivariant answers /<mount>.m3u8 with the picked node's media
// playlist first and the other live node's as a redundant variant, one
// session for both, with CORS; unknown mounts get 404, /_hls/ requests
// without a session a new one.
func TestMultivariant(t *testing.T) {
	h, _ := newTestHandler(t, Config{HTTPPort: 8080}, testCluster())
	w := do(h, http.MethodGet, "/live.ogg.m3u8")
	want := regexp.MustCompile(`^#EXTM3U
#EXT-X-VERSION:3
#EXT-X-STREAM-INF:BANDWIDTH=128000
http://192\.0\.2\.1:8080/_hls/live\.ogg/index\.m3u8\?s=([0-9a-f]{24})
#EXT-X-STREAM-INF:BANDWIDTH=128000
http://192\.0\.2\.2:8080/_hls/live\.ogg/index\.m3u8\?s=([0-9a-f]{24})
$`)
	m := want.FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil || m[1] != m[2] ||
		w.Header().Get("Content-Type") != "application/vnd.apple.mpegurl" || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("%d %v\n%s", w.Code, w.Header(), w.Body)
	}
	if w := do(h, http.MethodGet, "/nope.mp3.m3u8"); w.Code != http.StatusNotFound {
		t.Errorf("unknown mount: %d", w.Code)
	}
	if w := do(h, http.MethodGet, "/_hls/nope.mp3/index.m3u8"); w.Code != http.StatusNotFound {
		t.Errorf("unknown mount's media playlist: %d", w.Code)
	}
	w = do(h, http.MethodGet, "/_hls/live.ogg/index.m3u8")
	if loc := w.Header().Get("Location"); w.Code != http.StatusFound || !regexp.MustCompile(`^/_hls/live\.ogg/index\.m3u8\?s=[0-9a-f]{24}$`).MatchString(loc) {
		t.Errorf("media playlist without a session: %d %q", w.Code, loc)
	}
	if w := do(h, http.MethodGet, "/_hls/live.ogg/1.mp3"); w.Code != http.StatusForbidden {
		t.Errorf("segment without a session: %d", w.Code)
	}
}

// TestMultivariantHTTPS: a multivariant playlist asked for over HTTPS
// names the nodes' front-ends over HTTPS, by their names in the domain,
// as redirects do; web pages on HTTPS may load nothing over HTTP.
func TestMultivariantHTTPS(t *testing.T) {
	h, _ := newTestHandler(t, Config{Addr: ":8080", HTTPSAddr: ":8443", GetCertificate: noCert}, testCluster())
	w := doTLS(h, "https://radio.example.com:8443/live.ogg.m3u8")
	want := regexp.MustCompile(`(?m)^https://node1\.radio\.example\.com:8443/_hls/live\.ogg/index\.m3u8\?s=[0-9a-f]{24}
#EXT-X-STREAM-INF:BANDWIDTH=128000
https://node2\.radio\.example\.com:8443/_hls/live\.ogg/index\.m3u8\?s=[0-9a-f]{24}$`)
	if w.Code != http.StatusOK || !want.MatchString(w.Body.String()) {
		t.Errorf("%d\n%s", w.Code, w.Body)
	}
}
