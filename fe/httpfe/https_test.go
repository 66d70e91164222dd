package httpfe

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func noCert(*tls.ClientHelloInfo) (*tls.Certificate, error) { return nil, nil }

func doTLS(h http.Handler, target string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.TLS = &tls.ConnectionState{}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHTTPSAnswers(t *testing.T) {
	h, _ := newTestHandler(t, Config{Addr: ":8080", HTTPSAddr: ":8443", GetCertificate: noCert,
		RedirectPages: true, HSTS: time.Hour}, testCluster())
	for _, tc := range []struct {
		name, target string
		tls          bool
		code         int
		header, want string
	}{
		{"listener over HTTPS goes to the node's name", "https://radio.example.com:8443/live.ogg?x=1", true,
			http.StatusFound, "Location", "https://node1.radio.example.com:8443/_stream/live.ogg?x=1"},
		{"playlist over HTTPS", "https://radio.example.com:8443/live.ogg.m3u", true, http.StatusOK, "", "https://radio.example.com:8443/live.ogg\n"},
		{"playlist over HTTPS, foreign Host", "https://evil.example.net/live.ogg.m3u", true, http.StatusOK, "", "https://radio.example.com:8443/live.ogg\n"},
		{"playlist over HTTP stays HTTP", "http://radio.example.com:8080/live.ogg.m3u", false, http.StatusOK, "", "http://radio.example.com:8080/live.ogg\n"},
		{"HSTS over HTTPS", "https://radio.example.com:8443/", true, http.StatusOK, "Strict-Transport-Security", "max-age=3600"},
		{"status page sent to HTTPS", "http://radio.example.com:8080/", false, http.StatusMovedPermanently, "Location", "https://radio.example.com:8443/"},
		{"status page of a foreign Host sent to the domain", "http://evil.example.net/", false, http.StatusMovedPermanently, "Location", "https://radio.example.com:8443/"},
		{"streams stay on HTTP", "http://radio.example.com:8080/live.ogg", false, http.StatusFound, "Location", "http://192.0.2.1:8080/_stream/live.ogg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w *httptest.ResponseRecorder
			if tc.tls {
				w = doTLS(h, tc.target)
			} else {
				w = do(h, http.MethodGet, tc.target)
			}
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d", w.Code, tc.code)
			}
			got := w.Body.String()
			if tc.header != "" {
				got = w.Header().Get(tc.header)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if !tc.tls && w.Header().Get("Strict-Transport-Security") != "" {
				t.Error("HSTS over plain HTTP")
			}
		})
	}
}
