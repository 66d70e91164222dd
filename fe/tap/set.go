package tap

import (
	"sync"
	"time"
)

// DefaultSize is the ring size of a tap: seconds of any stream.
const DefaultSize = 256 << 10

// DefaultFresh is how recently a source must have sent for its tap to
// open: a tap is for listeners whose upstream stalled while the source
// goes on (its master died); when the source itself stalls, its tap
// has nothing new for them either.
const DefaultFresh = 2 * time.Second

// A Set holds the taps of the sources a front-end forwards, one per
// mount: the latest source of a mount replaces an earlier one.
type Set struct {
	// Size is each tap's ring size. Default DefaultSize.
	Size int
	// Fresh is how recently a source must have sent for its tap to
	// open. Default DefaultFresh.
	Fresh time.Duration

	mu   sync.Mutex
	taps map[string]*Tap
}

// Add starts the tap of a source of mount, whose stream has contentType
// and whose next byte is at stream position start. Close it when the
// source ends.
func (s *Set) Add(mount, contentType string, start int64) *Tap {
	size := s.Size
	if size <= 0 {
		size = DefaultSize
	}
	t := &Tap{set: s, mount: mount, contentType: contentType, ring: make([]byte, size),
		base: start, end: start, wake: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taps == nil {
		s.taps = map[string]*Tap{}
	}
	s.taps[mount] = t
	return t
}

// Open returns a reader of mount's tap, which starts at a join point
// about back bytes back from the live end; false when no source of mount
// is tapped here, its tap has no join point yet, or the source sent
// nothing for Fresh.
func (s *Set) Open(mount string, back int) (*Reader, bool) {
	s.mu.Lock()
	t := s.taps[mount]
	s.mu.Unlock()
	if t == nil {
		return nil, false
	}
	fresh := s.Fresh
	if fresh <= 0 {
		fresh = DefaultFresh
	}
	return t.open(back, fresh)
}

// remove forgets t, unless a later source of its mount replaced it.
func (s *Set) remove(t *Tap) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taps[t.mount] == t {
		delete(s.taps, t.mount)
	}
}
