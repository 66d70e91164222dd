package tap

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

// Back is how far back from the live end a reader of a tap starts, at
// a join point: enough for a fan-out to find where the stream it had
// (an Icecast relay's, a little behind the source) goes on.
const Back = 48 << 10

// Serve streams mount's tap to w: the source's bytes, from a join point
// about Back bytes back, then live, each write flushed and bounded by
// writeTimeout, until the source ends or the client leaves. 404 when no
// source of mount is tapped here. The caller decides who may ask.
func (s *Set) Serve(w http.ResponseWriter, r *http.Request, mount string, writeTimeout time.Duration) error {
	rd, ok := s.Open(mount, Back)
	if !ok {
		http.NotFound(w, r)
		return nil
	}
	defer rd.Close()
	stop := context.AfterFunc(r.Context(), func() { rd.Close() })
	defer stop()
	hdr := w.Header()
	hdr.Set("Content-Type", rd.ContentType())
	hdr.Set("Cache-Control", "no-cache, no-store")
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil || r.Method == http.MethodHead {
		return err
	}
	buf := make([]byte, 16<<10)
	for {
		n, err := rd.Read(buf)
		if n > 0 {
			rc.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if werr := rc.Flush(); werr != nil {
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
