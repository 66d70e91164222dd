package fanout

import (
	"context"
	"io"
	"sync"
)

// A window holds the recent data of a stream in a ring of fixed-size
// chunks. One writer (a feed) appends; listeners read at their own
// positions, without copying, until the data they want has left the ring.
type window struct {
	mu     sync.RWMutex  // read-locked by listeners, locked by the writer
	chunks [][]byte      // chunk k at chunks[k % len(chunks)]
	size   int64         // bytes per chunk
	base   int64         // the oldest position still in the window
	end    int64         // bytes received so far
	wake   chan struct{} // closed when data arrives or the stream ends
	done   bool          // no more data will come
	join   joiner        // where listeners may start; set before any data
}

func newWindow(chunks, size int) window {
	return window{chunks: make([][]byte, chunks), size: int64(size), wake: make(chan struct{}), join: rawJoin{}}
}

// space returns the free part of the current chunk, starting a new chunk
// (and dropping the oldest) when it is full. Listeners never read past
// end, so the writer fills it without the lock.
func (w *window) space() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := w.end / w.size
	if w.end%w.size == 0 {
		// Listeners still writing from the chunk this replaces keep it
		// alive until they are done; it is never written again.
		w.chunks[k%int64(len(w.chunks))] = make([]byte, w.size)
		w.base = max(0, k-int64(len(w.chunks))+1) * w.size
	}
	return w.chunks[k%int64(len(w.chunks))][w.end%w.size:]
}

// publish makes p, just written into space, visible to listeners.
func (w *window) publish(p []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.join.observe(p, w.end, w.base)
	w.end += int64(len(p))
	close(w.wake)
	w.wake = make(chan struct{})
}

// write copies p into the window and publishes it.
func (w *window) write(p []byte) {
	for len(p) > 0 {
		s := w.space()
		n := copy(s, p)
		w.publish(s[:n])
		p = p[n:]
	}
}

// finish marks the stream as over: listeners finish what is in the
// window, then get io.EOF.
func (w *window) finish() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	close(w.wake)
}

// next returns the data after pos, waiting for some; errSlow when pos has
// left the window, io.EOF when the stream is over.
func (w *window) next(ctx context.Context, pos int64) ([]byte, error) {
	for {
		w.mu.RLock()
		if pos < w.base {
			w.mu.RUnlock()
			return nil, errSlow
		}
		if pos < w.end {
			k := pos / w.size
			c := w.chunks[k%int64(len(w.chunks))]
			lim := min(w.end, (k+1)*w.size)
			w.mu.RUnlock()
			return c[pos-k*w.size : lim-k*w.size], nil
		}
		done, wake := w.done, w.wake
		w.mu.RUnlock()
		if done {
			return nil, io.EOF
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// start returns where a new listener starts and what it must get first:
// about burst bytes back, at a point where the format allows it. When the
// window does not tell yet, as for a feed's first listener, it waits for
// more data; at the end of the stream, the listener starts where it
// would have joined.
func (w *window) start(ctx context.Context, burst int) (int64, []byte, error) {
	w.mu.RLock()
	from := max(w.base, w.end-int64(burst))
	for {
		from = max(from, w.base)
		pos, first, ok := w.join.start(w, from)
		done, wake := w.done, w.wake
		w.mu.RUnlock()
		if ok || done {
			return pos, first, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
		w.mu.RLock()
	}
}

// byteAt returns the byte at pos, which must be in the window; the caller
// holds the lock.
func (w *window) byteAt(pos int64) byte {
	return w.chunks[(pos/w.size)%int64(len(w.chunks))][pos%w.size]
}

// read fills p from pos; false when the window ends first. The caller
// holds the lock.
func (w *window) read(p []byte, pos int64) bool {
	if pos+int64(len(p)) > w.end {
		return false
	}
	for i := range p {
		p[i] = w.byteAt(pos + int64(i))
	}
	return true
}
