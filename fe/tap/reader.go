package tap

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// ErrBehind ends a reader that fell a ring behind its tap.
var ErrBehind = errors.New("tap: the reader fell behind the source")

// A Reader follows a tap from a join point: the header the point needs
// (Ogg's header pages) first, then the source's bytes. Read and
// SetReadDeadline belong to one goroutine; Close may come from any.
type Reader struct {
	t        *Tap
	pos      int64
	head     []byte
	deadline time.Time
	closed   chan struct{}
	once     sync.Once
}

// ContentType is the source's Content-Type.
func (r *Reader) ContentType() string { return r.t.contentType }

// Read reads the source's next bytes, waiting for some: io.EOF once the
// source ended, ErrBehind once the reader lost its place,
// os.ErrDeadlineExceeded past the read deadline, net.ErrClosed once
// closed.
func (r *Reader) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	for {
		n, wake, err := r.t.readAt(p, r.pos)
		r.pos += int64(n)
		if n > 0 || err != nil {
			return n, err
		}
		if err := r.wait(wake); err != nil {
			return 0, err
		}
	}
}

// wait waits for wake, the deadline or Close.
func (r *Reader) wait(wake <-chan struct{}) error {
	var timeout <-chan time.Time
	if !r.deadline.IsZero() {
		d := time.Until(r.deadline)
		if d <= 0 {
			return os.ErrDeadlineExceeded
		}
		tm := time.NewTimer(d)
		defer tm.Stop()
		timeout = tm.C
	}
	select {
	case <-wake:
		return nil
	case <-r.closed:
		return net.ErrClosed
	case <-timeout:
		return os.ErrDeadlineExceeded
	}
}

// SetReadDeadline bounds the reads to come, like net.Conn's.
func (r *Reader) SetReadDeadline(t time.Time) error {
	r.deadline = t
	return nil
}

// Close ends the reader; a Read under way returns.
func (r *Reader) Close() error {
	r.once.Do(func() { close(r.closed) })
	return nil
}

// readAt copies the bytes from pos into p; with none yet, it returns
// the channel that tells when some come.
func (t *Tap) readAt(p []byte, pos int64) (int, <-chan struct{}, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case pos < t.base:
		return 0, nil, ErrBehind
	case pos < t.end:
		i := int(pos % int64(len(t.ring)))
		lim := min(len(t.ring), i+int(t.end-pos))
		return copy(p, t.ring[i:lim]), nil, nil
	case t.done:
		return 0, nil, io.EOF
	}
	return 0, t.wake, nil
}
