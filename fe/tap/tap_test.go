package tap

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"autoradio/internal/audioframe"
)

// feed writes data to t in pieces of n bytes, with a join point every
// 1000 bytes (the point at 3000 carries a header, as Ogg's do).
func feed(t *Tap, data []byte, from int64, n int) {
	for i := 0; i < len(data); i += n {
		p := data[i:min(i+n, len(data))]
		var pts []audioframe.Point
		for pos := from + int64(i); pos < from+int64(i+len(p)); pos++ {
			if pos%1000 == 0 {
				pt := audioframe.Point{Pos: pos}
				if pos == 3000 {
					pt.Header = []byte("HEAD")
				}
				pts = append(pts, pt)
			}
		}
		t.Write(p, pts)
	}
}

func stream(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

// TestReader: a reader starts at the first join point within back bytes
// of the end, with the point's header first, follows the tap live, and
// gets io.EOF once the source ended; one that falls a ring behind gets
// ErrBehind; a read past the deadline, os.ErrDeadlineExceeded.
func TestReader(t *testing.T) {
	var s Set
	s.Size = 8000
	if _, ok := s.Open("/m", 100); ok {
		t.Fatal("a tap of no source opened")
	}
	data := stream(20000)
	tp := s.Add("/m", "audio/mpeg", 0)
	feed(tp, data[:3500], 0, 300)
	r, ok := s.Open("/m", 1000)
	if !ok {
		t.Fatal("no reader")
	}
	if r.ContentType() != "audio/mpeg" {
		t.Errorf("content type %q", r.ContentType())
	}
	r.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	got, err := readUntil(r, 4+500)
	if !bytes.Equal(got, append([]byte("HEAD"), data[3000:3500]...)) || err != nil {
		t.Fatalf("first read: %d bytes, %v", len(got), err)
	}
	if _, err := r.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the deadline: %v", err)
	}
	r.SetReadDeadline(time.Time{})
	lagging, _ := s.Open("/m", 1000)
	feed(tp, data[3500:6000], 3500, 700)
	tp.Close()
	rest, err := io.ReadAll(r)
	if !bytes.Equal(rest, data[3500:6000]) || err != nil {
		t.Errorf("the rest: %d bytes, %v", len(rest), err)
	}
	if _, ok := s.Open("/m", 1000); ok {
		t.Error("a closed tap opened")
	}

	tp = s.Add("/m", "audio/mpeg", 6000)
	feed(tp, data[6000:20000], 6000, 500)
	defer tp.Close()
	if _, err := io.ReadAll(lagging); err != nil {
		t.Errorf("a reader of the ended tap: %v", err)
	}
	r, _ = s.Open("/m", 1000)
	feed(tp, stream(9000), 20000, 1000)
	if _, err := io.ReadAll(r); !errors.Is(err, ErrBehind) {
		t.Errorf("a reader a ring behind: %v", err)
	}
}

// A tap whose source sent nothing for Fresh does not open: the source
// itself stalls, and its tap has nothing new for a stalled listener.
func TestStaleTapDoesNotOpen(t *testing.T) {
	s := Set{Size: 8000, Fresh: 50 * time.Millisecond}
	tp := s.Add("/m", "audio/mpeg", 0)
	defer tp.Close()
	feed(tp, stream(3500), 0, 500)
	if _, ok := s.Open("/m", 1000); !ok {
		t.Fatal("a tap just written did not open")
	}
	time.Sleep(100 * time.Millisecond) // past Fresh: the bound under test
	if _, ok := s.Open("/m", 1000); ok {
		t.Error("a tap not written for twice Fresh opened")
	}
	feed(tp, stream(500), 3500, 500)
	if _, ok := s.Open("/m", 1000); !ok {
		t.Error("a tap written again did not open")
	}
}

// readUntil reads n bytes from r.
func readUntil(r io.Reader, n int) ([]byte, error) {
	got := make([]byte, n)
	_, err := io.ReadFull(r, got)
	return got, err
}

// TestServe: over HTTP, a tap streams as HTTP/1.0 without a length, from
// a join point, live, until the source ends; 404 without a source, and
// the stream ends when the client leaves.
func TestServe(t *testing.T) {
	var s Set
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Serve(w, r, r.URL.Path, time.Second)
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/m")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("no source: %s", resp.Status)
	}

	data := stream(Back * 3)
	tp := s.Add("/m", "audio/mpeg", 0)
	feed(tp, data[:Back*2], 0, 4096)
	resp, err = http.Get(srv.URL + "/m")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.ProtoMinor != 0 || len(resp.TransferEncoding) > 0 || resp.Header.Get("Content-Type") != "audio/mpeg" {
		t.Errorf("answer %s %s, %v", resp.Proto, resp.Status, resp.Header)
	}
	feed(tp, data[Back*2:], Back*2, 4096)
	tp.Close()
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The first join point (every 1000 bytes) within Back of the end.
	from := (Back + 999) / 1000 * 1000
	if want := data[from:]; !bytes.Equal(got, want) || err != nil {
		t.Errorf("got %d bytes (%v), want the last %d", len(got), err, len(want))
	}

	// A client that leaves ends its stream.
	tp = s.Add("/m", "audio/mpeg", 0)
	defer tp.Close()
	feed(tp, data[:4000], 0, 4000)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("GET /m HTTP/1.1\r\nHost: x\r\n\r\n"))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
}
