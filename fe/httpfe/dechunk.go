package httpfe

import (
	"errors"
	"fmt"
	"io"
	"net/http/httputil"
)

// errBadChunk ends a chunked source whose framing is broken.
var errBadChunk = errors.New("malformed chunked source")

// A dechunker reads the body of a chunked source (liquidsoap's
// chunked=true, curl -T -) without its framing, which Icecast 2.4 would
// otherwise pass to listeners as audio. httputil's reader bounds a
// chunk-size line (4 KiB) and never buffers a chunk: a chunk of any size
// is read through as it comes.
type dechunker struct {
	raw    errRecorder
	chunks io.Reader
}

func newDechunker(src io.Reader) *dechunker {
	d := &dechunker{raw: errRecorder{r: src}}
	d.chunks = httputil.NewChunkedReader(&d.raw)
	return d
}

// Read returns the source's data: io.EOF after the last chunk, or when the
// source hangs up without sending it (as a source that stops may); the
// connection's own errors (deadlines, resets) as they are; errBadChunk when
// the framing is broken.
func (d *dechunker) Read(p []byte) (int, error) {
	n, err := d.chunks.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case errors.Is(d.raw.err, io.EOF):
		err = io.EOF
	case d.raw.err != nil:
		err = d.raw.err
	default:
		err = fmt.Errorf("%w: %v", errBadChunk, err)
	}
	return n, err
}

// An errRecorder keeps the last error of the reader it reads.
type errRecorder struct {
	r   io.Reader
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
