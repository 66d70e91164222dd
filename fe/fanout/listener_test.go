package fanout

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"autoradio/internal/audioframe"
)

// fakeUpstream serves 60 KB of ADTS frames on /live.aac, then keeps the
// stream open with nothing more, and 404 on any other mount.
type fakeUpstream struct{ t *testing.T }

func (u fakeUpstream) Open(ctx context.Context, mount string, icy bool) (*Response, error) {
	if mount != "/live.aac" {
		return &Response{Status: http.StatusNotFound, Header: http.Header{}}, nil
	}
	feedSide, upSide := net.Pipe()
	go func() {
		defer upSide.Close()
		// Start mid-frame, as a relay joining late would.
		upSide.Write(adtsFrame(300, 4)[120:])
		for range 200 {
			if _, err := upSide.Write(adtsFrame(300, 4)); err != nil {
				return
			}
		}
		<-ctx.Done()
	}()
	stop := context.AfterFunc(ctx, func() { feedSide.Close() })
	u.t.Cleanup(func() { stop() })
	return &Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"audio/aacp"}}, Body: feedSide}, nil
}

func newTestFanout(t *testing.T) (*Fanout, string) {
	f, err := New(Config{
		Upstream:   fakeUpstream{t},
		WindowSize: 64 << 10, Burst: 8 << 10,
		// Generous bounds: the upstream goes silent after its frames, and
		// a busy machine may hold a listener back for a while.
		ReadTimeout: 10 * time.Second, ReadyTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, HeadTimeout: 10 * time.Second,
		Grace: 10 * time.Millisecond, Reconnect: 10 * time.Second,
	}, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var serr *StatusError
		switch err := f.Serve(w, r, r.URL.Path, 2); {
		case errors.As(err, &serr):
			http.Error(w, "stream unavailable", serr.Code)
		case err != nil:
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(func() {
		f.Close()
		srv.Close()
	})
	return f, srv.URL
}

// TestServe streams a mount to listeners through one feed: both start at
// a frame, the first (which opens the feed) too, although the upstream
// starts mid-frame; both get CORS headers. A missing mount gets the upstream's status, a listener beyond
// the limit 503.
func TestServe(t *testing.T) {
	f, url := newTestFanout(t)
	if code := get(t, url+"/none.aac"); code != http.StatusNotFound {
		t.Errorf("missing mount: %d, want 404", code)
	}
	var bodies []io.ReadCloser
	for i := range 2 {
		resp, err := http.Get(url + "/live.aac")
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			resp.Header.Get("Content-Type") != "audio/aacp" {
			t.Fatalf("listener %d: %s, headers %v", i, resp.Status, resp.Header)
		}
		data := make([]byte, 16<<10>>(4*i)) // 16 KiB, then 4 KiB
		if _, err := io.ReadFull(bufio.NewReader(resp.Body), data); err != nil {
			t.Fatalf("listener %d: %v", i, err)
		}
		if audioframe.ADTSLen(data) != 300 {
			t.Errorf("listener %d starts with % x, want a frame header", i, data[:audioframe.ADTSHeaderLen])
		}
	}
	if c := f.Counts()["/live.aac"]; c.Listeners != 2 || c.Upstreams != 1 {
		t.Errorf("counts %+v, want 2 listeners on 1 upstream", c)
	}
	if code := get(t, url+"/live.aac"); code != http.StatusServiceUnavailable {
		t.Errorf("third listener: %d, want 503", code)
	}
	for _, b := range bodies {
		b.Close()
	}
}

func get(t *testing.T, url string) int {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
