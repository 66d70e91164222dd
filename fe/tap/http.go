package tap

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// Back is how far back from the live end a reader of a tap starts, at
// a join point: enough for a fan-out to find where the stream it had
// (an Icecast relay's, a little behind the source) goes on.
const Back = 48 << 10

// Serve streams mount's tap to w's connection, which it takes over: an
// HTTP/1.0 answer without a length, as Icecast's, whose body is the
// source's bytes, from a join point about Back bytes back, then live,
// each write bounded by writeTimeout, until the source ends or a write
// fails. (A chunked body would not do: a reader that wakes up on read
// deadlines, as a fan-out's feed does, cannot go on reading one after
// the first.) 404 when no source of mount is tapped here. The caller
// decides who may ask.
func (s *Set) Serve(w http.ResponseWriter, r *http.Request, mount string, writeTimeout time.Duration) error {
	rd, ok := s.Open(mount, Back)
	if !ok {
		http.NotFound(w, r)
		return nil
	}
	defer rd.Close()
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "cannot stream here", http.StatusInternalServerError)
		return err
	}
	defer conn.Close()
	// A client that closes its side ends the stream at the next write.
	go discard(conn, brw.Reader, rd)
	hdr := http.Header{"Content-Type": {rd.ContentType()}, "Cache-Control": {"no-cache, no-store"}, "Connection": {"close"}}
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	out := brw.Writer
	out.WriteString("HTTP/1.0 200 OK\r\n")
	hdr.Write(out)
	out.WriteString("\r\n")
	if err := out.Flush(); err != nil || r.Method == http.MethodHead {
		return err
	}
	buf := make([]byte, 16<<10)
	for {
		n, err := rd.Read(buf)
		if n > 0 {
			conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, werr := conn.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// discard reads what the client sends after its request (nothing, as a
// rule) until its connection ends, then closes rd, which ends Serve.
func discard(conn net.Conn, in *bufio.Reader, rd *Reader) {
	defer rd.Close()
	io.Copy(io.Discard, io.MultiReader(io.LimitReader(in, int64(in.Buffered())), conn))
}
