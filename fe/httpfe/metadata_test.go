package httpfe

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"autoradio"
	"autoradio/fe/authguard"
)

func TestSourceAuthorized(t *testing.T) {
	m := &autoradio.Mount{Name: "/live.ogg", Username: "source-user", Password: testPassword}
	relay := &autoradio.Mount{Name: "/relay.mp3"}
	for _, tc := range []struct {
		name       string
		m          *autoradio.Mount
		user, pass string
		noAuth     bool
		want       bool
	}{
		{name: "right", m: m, user: "source-user", pass: testPassword, want: true},
		{name: "no credentials", m: m, noAuth: true},
		{name: "wrong password", m: m, user: "source-user", pass: testPassword + "x"},
		{name: "password prefix", m: m, user: "source-user", pass: testPassword[:3]},
		{name: "wrong user", m: m, user: "source", pass: testPassword},
		{name: "empty", m: m},
		{name: "relay mount, empty credentials", m: relay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/admin/metadata", nil)
			if !tc.noAuth {
				r.SetBasicAuth(tc.user, tc.pass)
			}
			if got := sourceAuthorized(r, tc.m); got != tc.want {
				t.Errorf("sourceAuthorized = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newRateLimiter(2, 3, func() time.Time { return now })
	take := func(key string, n int) (ok int) {
		for range n {
			if l.allow(key) {
				ok++
			}
		}
		return ok
	}
	if got := take("/a", 5); got != 3 {
		t.Errorf("a burst of 5 on a new key: %d allowed, want 3", got)
	}
	if got := take("/b", 1); got != 1 {
		t.Errorf("another key: %d allowed, want 1", got)
	}
	now = now.Add(time.Second)
	if got := take("/a", 5); got != 2 {
		t.Errorf("1 s later: %d allowed, want 2", got)
	}
	now = now.Add(time.Hour)
	if got := take("/a", 5); got != 3 {
		t.Errorf("an hour later: %d allowed, want the burst, 3", got)
	}
	for i := range maxIdleBuckets {
		l.allow(fmt.Sprint("/m", i))
	}
	now = now.Add(time.Hour)
	l.allow("/new")
	if len(l.buckets) != 1 {
		t.Errorf("%d buckets kept, want only the new one once the others have refilled", len(l.buckets))
	}
}

// TestMetadataRefusals checks the answers that never reach the master.
// The master's address is a loopback port where nothing listens.
func TestMetadataRefusals(t *testing.T) {
	c := testCluster()
	c.setMaster(&autoradio.MasterInfo{Name: "node1", IPs: []string{"127.0.0.1"}, IcecastPort: freePort(t)})
	h, reg := newTestHandler(t, Config{MetadataBurst: 1, DialTimeout: 2 * time.Second}, c)
	auth := basicAuth("source-user", testPassword)
	const q = "/admin/metadata?mode=updinfo&song=Hello&mount="
	for _, tc := range []struct {
		name, method, target, auth string
		want                       int
	}{
		{"unknown mount", "GET", q + "/none.ogg", auth, http.StatusNotFound},
		{"no mount", "GET", "/admin/metadata?mode=updinfo&song=x", auth, http.StatusNotFound},
		{"no credentials", "GET", q + "/live.ogg", "", http.StatusUnauthorized},
		{"wrong password", "GET", q + "/live.ogg", basicAuth("source-user", "wrong"), http.StatusUnauthorized},
		{"relay mount", "GET", q + "/relay.mp3", basicAuth("", ""), http.StatusUnauthorized},
		{"HEAD", "HEAD", q + "/live.ogg", auth, http.StatusMethodNotAllowed},
		{"master unreachable", "GET", q + "/live.ogg", auth, http.StatusBadGateway},
		{"too fast", "GET", q + "/live.ogg", auth, http.StatusTooManyRequests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.auth != "" {
				hdr = []string{"Authorization", tc.auth}
			}
			w := do(h, tc.method, tc.target, hdr...)
			if w.Code != tc.want {
				t.Fatalf("%s %s: %d %q, want %d", tc.method, tc.target, w.Code, w.Body, tc.want)
			}
			if got := w.Header().Get("WWW-Authenticate"); (w.Code == http.StatusUnauthorized) != (got == icecastRealm) {
				t.Errorf("WWW-Authenticate %q with %d", got, w.Code)
			}
		})
	}
	c.setMaster(nil)
	if w := do(h, "GET", q+"/other.ogg", "Authorization", auth); w.Code != http.StatusNotFound {
		t.Errorf("unknown mount, no master: %d", w.Code)
	}
	if v := metricValue(t, reg, "autoradio_http_requests_total", "kind", "metadata", "code", "401"); v != 3 {
		t.Errorf("metadata requests answered 401: %v, want 3", v)
	}
}

func TestMetadataNoMaster(t *testing.T) {
	c := testCluster()
	c.setMaster(nil)
	h, _ := newTestHandler(t, Config{}, c)
	w := do(h, "GET", "/admin/metadata?mode=updinfo&song=x&mount=/live.ogg", "Authorization", basicAuth("source-user", testPassword))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("no master: %d, want 503", w.Code)
	}
}

// Wrong credentials at /admin/metadata count against the address as for
// sources, so that title updates are no way around the guessing limit;
// asking without credentials, as libshout does first, does not count.
func TestMetadataGuessingIsLimited(t *testing.T) {
	h, reg := newTestHandler(t, Config{SourceGuard: authguard.Config{MaxFailures: 3}}, testCluster())
	const q = "/admin/metadata?mode=updinfo&song=x&mount=/live.ogg"
	for i := range 5 {
		if w := do(h, "GET", q); w.Code != http.StatusUnauthorized {
			t.Fatalf("request %d without credentials: %d, want 401", i+1, w.Code)
		}
	}
	for i := range 3 {
		if w := do(h, "GET", q, "Authorization", basicAuth("source-user", "guess")); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i+1, w.Code)
		}
	}
	w := do(h, "GET", q, "Authorization", basicAuth("source-user", testPassword))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("right password after 3 wrong ones: %d (Retry-After %q), want 429 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if v := metricValue(t, reg, "autoradio_source_lockouts_total"); v != 1 {
		t.Errorf("lockouts counted: %v, want 1", v)
	}
}

func TestForwardedMetadata(t *testing.T) {
	for _, tc := range []struct {
		name, query, want string
	}{
		{name: "ASCII, no charset", query: "mount=/m&mode=updinfo&song=A+-+B",
			want: "mode=updinfo&mount=%2Fm&song=A+-+B"},
		{name: "UTF-8, no charset", query: "mount=/m&mode=updinfo&song=Caf%C3%A9+%E2%99%AB",
			want: "charset=UTF-8&mode=updinfo&mount=%2Fm&song=Caf%C3%A9+%E2%99%AB"},
		{name: "Latin-1, no charset", query: "mount=/m&mode=updinfo&song=Caf%E9",
			want: "charset=ISO-8859-1&mode=updinfo&mount=%2Fm&song=Caf%E9"},
		{name: "empty charset", query: "mount=/m&mode=updinfo&song=Caf%C3%A9&charset=",
			want: "charset=UTF-8&mode=updinfo&mount=%2Fm&song=Caf%C3%A9"},
		{name: "UTF-8 artist, Latin-1 title", query: "mount=/m&mode=updinfo&artist=Zo%C3%AB&title=Caf%E9",
			want: "artist=Zo%C3%AB&charset=ISO-8859-1&mode=updinfo&mount=%2Fm&title=Caf%E9"},
		{name: "charset named: kept", query: "mount=/m&mode=updinfo&song=Caf%E9&charset=UTF-8",
			want: "charset=UTF-8&mode=updinfo&mount=%2Fm&song=Caf%E9"},
		{name: "control characters and NUL passed on", query: "mount=/m&mode=updinfo&song=a%00b%01c%1F",
			want: "mode=updinfo&mount=%2Fm&song=a%00b%01c%1F"},
		{name: "other parameters dropped", query: "mount=/m&mode=updinfo&song=x&pass=secret&url=http://x/",
			want: "mode=updinfo&mount=%2Fm&song=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := forwardedMetadata(q).Encode(); got != tc.want {
				t.Errorf("forwarded %s\nwant      %s", got, tc.want)
			}
		})
	}
}

func TestTextCharset(t *testing.T) {
	for _, tc := range []struct {
		values url.Values
		want   string
	}{
		{url.Values{}, ""},
		{url.Values{"song": {"plain ASCII & 'quotes'"}}, ""},
		{url.Values{"song": {"Café ♫"}}, "UTF-8"},
		{url.Values{"title": {"Caf\xe9"}}, "ISO-8859-1"},
		{url.Values{"song": {"ok", "Caf\xe9"}}, "ISO-8859-1"},
		{url.Values{"artist": {"Zoë"}, "title": {"x"}}, "UTF-8"},
		// Only text parameters count: a mount path is ASCII anyway.
		{url.Values{"mount": {"/m\xe9"}, "song": {"x"}}, ""},
	} {
		if got := textCharset(tc.values); got != tc.want {
			t.Errorf("textCharset(%q) = %q, want %q", tc.values, got, tc.want)
		}
	}
}
