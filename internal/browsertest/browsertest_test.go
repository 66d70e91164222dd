package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestSmoke loads a page served on loopback in Chromium: the harness
// itself works (browser starts, script runs, JSON comes back).
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>smoke</title><p>hello")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out := Script(ctx, t, "smoke.mjs", "http://"+ln.Addr().String()+"/")
	var got struct {
		Title       string `json:"title"`
		ScrollWidth int    `json:"scrollWidth"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decoding %q: %v", out, err)
	}
	if got.Title != "smoke" || got.ScrollWidth > 390 {
		t.Errorf("got %+v, want title smoke and no wider than 390 px", got)
	}
}
