package fanout

import (
	"context"
	"net/http"
)

// A Reader reads a mount's stream from its shared feed, for a consumer
// inside the front-end (such as HLS) rather than a listener: it keeps the
// feed open like a listener, but is not counted as one.
type Reader struct {
	f     *Fanout
	fd    *feed
	pos   int64
	first []byte
}

// Open returns a Reader of mount's stream (without Icy metadata), which
// starts about a burst back from the live end, at a point where a decoder
// can start. It waits for the upstream's first answer, bounded by ctx and
// the ready timeout. Errors are as Serve's. Close the Reader when done.
func (f *Fanout) Open(ctx context.Context, mount string) (*Reader, error) {
	fd, err := f.attach(feedKey{mount: mount}, 0, false)
	if err != nil {
		return nil, err
	}
	r := &Reader{f: f, fd: fd}
	if err := r.ready(ctx); err != nil {
		f.detach(fd, false)
		return nil, err
	}
	return r, nil
}

func (r *Reader) ready(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, r.f.cfg.ReadyTimeout)
	defer cancel()
	if err := r.fd.waitReady(wctx); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return &StatusError{Code: http.StatusGatewayTimeout, Err: err}
	}
	if r.fd.status != http.StatusOK {
		return &StatusError{Code: r.fd.status}
	}
	pos, first, err := r.fd.start(ctx)
	r.pos, r.first = pos, first
	return err
}

// ContentType is the stream's Content-Type, as the upstream sent it.
func (r *Reader) ContentType() string { return r.fd.contentType }

// Next returns the stream's next bytes, waiting for some. They are the
// feed's own: read them, never modify them. It returns io.EOF when the
// stream is over, and an error when the Reader fell a window behind.
func (r *Reader) Next(ctx context.Context) ([]byte, error) {
	if r.first != nil {
		p := r.first
		r.first = nil
		return p, nil
	}
	p, err := r.fd.next(ctx, r.pos)
	r.pos += int64(len(p))
	return p, err
}

// Close releases the feed, which closes after the grace period when it
// has no listener or Reader left.
func (r *Reader) Close() { r.f.detach(r.fd, false) }
