package fanout

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"autoradio/internal/audioframe"
	"autoradio/internal/testenv"
)

// TestReader reads a mount through a Reader: it starts at a frame, keeps
// the feed open without counting as a listener, and releases it on Close.
func TestReader(t *testing.T) {
	f, _ := newTestFanout(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := f.Open(ctx, "/none.aac"); !isStatus(err, http.StatusNotFound) {
		t.Errorf("missing mount: %v, want a 404 StatusError", err)
	}
	r, err := f.Open(ctx, "/live.aac")
	if err != nil {
		t.Fatal(err)
	}
	if r.ContentType() != "audio/aacp" {
		t.Errorf("content type %q", r.ContentType())
	}
	p, err := r.Next(ctx)
	for err == nil && len(p) < audioframe.ADTSHeaderLen {
		p, err = r.Next(ctx)
	}
	if err != nil || audioframe.ADTSLen(p) != 300 {
		t.Fatalf("first read %d bytes, %v: want a frame", len(p), err)
	}
	if c := f.Counts()["/live.aac"]; c.Listeners != 0 || c.Upstreams != 1 || f.Listeners() != 0 {
		t.Errorf("counts %+v, %d listeners: want a feed without listeners", c, f.Listeners())
	}
	r.Close()
	testenv.Eventually(t, 5*time.Second, func() error {
		if _, ok := f.Counts()["/live.aac"]; ok {
			return errors.New("the feed is still open after its Reader closed")
		}
		return nil
	})
}

func isStatus(err error, code int) bool {
	se, ok := err.(*StatusError)
	return ok && se.Code == code
}
