package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// TestTitleThroughFrontEnds updates a mount's title the way libshout
// does (first without credentials, then with them on the 401) through the
// front-end of a node that is not the master, and follows the title to
// the master, to listeners of the relay node, in the stream, and to the
// status pages of both front-ends.
func TestTitleThroughFrontEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := startPair(t, []string{"127.0.0.21", "127.0.0.22"})
	f1, f2 := p.f1, p.f2
	m, _ := p.liveMount(ctx, t, "/news.mp3", f2)

	// A listener of the relay node, with the feed open before the title.
	relayURL := f2.URL("/_stream" + m.Name)
	first, err := audiotest.ListenIcy(ctx, relayURL)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	const title = "News at Ten - Front-end"
	update := f2.URL("/admin/metadata?" + url.Values{"mount": {m.Name}, "mode": {"updinfo"},
		"song": {title}, "charset": {"UTF-8"}}.Encode())
	code, hdr := metadataGet(t, update, "", "")
	if code != http.StatusUnauthorized || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic ") {
		t.Fatalf("without credentials: %d, WWW-Authenticate %q; want 401 and a Basic challenge", code, hdr.Get("WWW-Authenticate"))
	}
	if code, _ := metadataGet(t, update, m.Username, m.Password); code != http.StatusOK {
		t.Fatalf("with the mount's credentials: %d, want 200", code)
	}

	want := "StreamTitle='" + title + "';"
	if err := first.WaitMeta(want); err != nil {
		t.Errorf("relay node's listener: %v", err)
	}
	testenv.Eventually(t, 15*time.Second, func() error {
		for _, f := range []*ct.Redirectord{f1, f2} {
			if js := get(t, f.URL("/_status.json")); !strings.Contains(js, `"title": "`+title+`"`) {
				return fmt.Errorf("%s's /_status.json lacks the title: %s", f.Name, js)
			}
			if page := get(t, f.URL("/")); !strings.Contains(page, "News at Ten") {
				return fmt.Errorf("%s's status page lacks the title", f.Name)
			}
		}
		return nil
	})
	// Once the change is older than a listener's burst, a new listener of
	// the shared feed still gets the title in its first block.
	for range 6 {
		if _, err := first.NextMeta(); err != nil {
			t.Fatal(err)
		}
	}
	late, err := audiotest.ListenIcy(ctx, relayURL)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	if got, err := late.NextMeta(); err != nil || got != want {
		t.Errorf("late listener's first metadata block: %q, %v; want %q", got, err, want)
	}
}

// metadataGet sends a title update, with Basic credentials unless user
// is empty, and returns the status and headers of the answer.
func metadataGet(t *testing.T, url, user, pass string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}
