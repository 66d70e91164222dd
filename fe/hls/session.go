package hls

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// NewToken returns a new session token.
func NewToken() string {
	b := make([]byte, tokenBytes)
	rand.Read(b)
	return hex.EncodeToString(b)
}

const tokenBytes = 12

// validToken tells whether s looks like a NewToken.
func validToken(s string) bool {
	if len(s) != 2*tokenBytes {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// sessions are the live sessions by mount and token.
type sessions struct {
	mu      sync.Mutex
	seen    map[sessionKey]time.Time
	byMount map[string]int
}

type sessionKey struct{ mount, token string }

// allowed tells whether a request of a session may be served: a known
// session's always, a new one's unless full or at max sessions.
func (s *sessions) allowed(mount, token string, full bool, max int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[sessionKey{mount, token}]; ok {
		return true
	}
	return !full && len(s.seen) < max
}

// touch notes a request of a session that was served, at now.
func (s *sessions) touch(mount, token string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sessionKey{mount, token}
	if _, ok := s.seen[k]; !ok {
		if s.seen == nil {
			s.seen, s.byMount = map[sessionKey]time.Time{}, map[string]int{}
		}
		s.byMount[mount]++
	}
	s.seen[k] = now
}

// expire ends the sessions last seen before cutoff.
func (s *sessions) expire(cutoff time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.seen {
		if t.Before(cutoff) {
			delete(s.seen, k)
			if s.byMount[k.mount]--; s.byMount[k.mount] == 0 {
				delete(s.byMount, k.mount)
			}
		}
	}
}

// counts returns the sessions of each mount that has some.
func (s *sessions) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.byMount))
	for m, n := range s.byMount {
		out[m] = n
	}
	return out
}

// total returns the sessions of all mounts.
func (s *sessions) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}
