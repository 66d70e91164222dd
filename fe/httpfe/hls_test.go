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
