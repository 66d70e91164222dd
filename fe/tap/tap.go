package tap

import (
	"sync"
	"time"

	"autoradio/internal/audioframe"
)

// A Tap is one source's recent bytes, in a ring, and the points among
// them where a decoder can start. Positions are the source's stream
// positions. One writer (the source's forward) writes; readers follow.
type Tap struct {
	set         *Set
	mount       string
	contentType string

	mu     sync.Mutex
	ring   []byte // the byte at position p is ring[p % len(ring)]
	base   int64  // the oldest position held
	end    int64  // the position after the last byte
	points []audioframe.Point
	wake   chan struct{} // closed when data comes or the tap ends
	done   bool
	at     time.Time // of the last write
}

// Write appends p, the source's next bytes, and the join points found
// up to its end. It never waits for readers: those that fall a ring
// behind lose their place.
func (t *Tap) Write(p []byte, points []audioframe.Point) {
	if len(p) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.at = time.Now()
	if len(p) > len(t.ring) {
		t.end += int64(len(p) - len(t.ring))
		p = p[len(p)-len(t.ring):]
	}
	for len(p) > 0 {
		i := int(t.end % int64(len(t.ring)))
		n := copy(t.ring[i:], p)
		t.end += int64(n)
		p = p[n:]
	}
	t.base = max(t.base, t.end-int64(len(t.ring)))
	for _, pt := range points {
		if pt.Pos >= t.base && pt.Pos < t.end {
			t.points = append(t.points, pt)
		}
	}
	i := 0
	for i < len(t.points) && t.points[i].Pos < t.base {
		i++
	}
	t.points = append(t.points[:0], t.points[i:]...)
	close(t.wake)
	t.wake = make(chan struct{})
}

// Close ends the tap: its readers get io.EOF once they have read it all.
func (t *Tap) Close() {
	if t == nil {
		return
	}
	t.set.remove(t)
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.done {
		t.done = true
		close(t.wake)
	}
}

// open returns a reader that starts at the first join point at most
// back bytes back from the end, or at the last one when all are older;
// false when there is none, or nothing was written for fresh.
func (t *Tap) open(back int, fresh time.Duration) (*Reader, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.points) == 0 || t.done || time.Since(t.at) > fresh {
		return nil, false
	}
	pt := t.points[len(t.points)-1]
	for _, p := range t.points {
		if p.Pos >= t.end-int64(back) {
			pt = p
			break
		}
	}
	return &Reader{t: t, pos: pt.Pos, head: pt.Header, closed: make(chan struct{})}, true
}

// ContentType is the source's Content-Type.
func (t *Tap) ContentType() string { return t.contentType }
