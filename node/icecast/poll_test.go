package icecast

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// An answer of Icecast that does not parse keeps the last readable status
// and Icecast up, counted; an Icecast that does not answer is down.
func TestReadStatusKeepsLastReadableStatus(t *testing.T) {
	var body atomic.Value
	body.Store(`{"server_id":"Icecast 2.4.4","mounts":[{"mount":"/a.mp3","listeners":3,"source_connected":true}]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body.Load().(string))
	}))
	defer srv.Close()
	s := &Server{
		client: &StatusClient{URL: srv.URL},
		log:    slog.New(slog.DiscardHandler),
	}
	ctx := context.Background()
	listeners := func(st *Status) int {
		m, _ := st.Mount("/a.mp3")
		return m.Listeners
	}
	if st, fresh := s.readStatus(ctx); st == nil || listeners(st) != 3 || !fresh {
		t.Fatalf("readable status: %+v (fresh %v), want 3 listeners, fresh", st, fresh)
	}
	body.Store(`{"server_id":"Icecast 2.4.4","mounts":[{"mount":"/a.mp3","listeners":4,"title":"\`)
	for range 2 {
		if st, fresh := s.readStatus(ctx); st == nil || listeners(st) != 3 || fresh {
			t.Fatalf("unreadable status: %+v (fresh %v), want the last readable one, not fresh", st, fresh)
		}
	}
	if n := s.unreadable.Load(); n != 2 {
		t.Errorf("%d unreadable answers counted, want 2", n)
	}
	srv.Close()
	if st, _ := s.readStatus(ctx); st != nil {
		t.Errorf("Icecast not answering: status %+v, want nil (down)", st)
	}
}
