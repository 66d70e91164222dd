package authguard

import (
	"container/list"
	"sync"
	"time"
)

// pendingRetry is the Retry-After of an attempt refused because the
// address has too many attempts awaiting their answer: they are answered
// within seconds.
const pendingRetry = time.Second

// A Guard tracks the failed logins of client addresses, each named by a
// key (see AddrKey). Every attempt that Allow lets through must be
// followed by one of Failed, Succeeded or Inconclusive. A Guard is safe
// for concurrent use.
type Guard struct {
	cfg Config

	mu    sync.Mutex
	addrs map[string]*list.Element // of *entry
	lru   list.List                // of *entry, the latest failure first
}

// entry is what a Guard knows of one address.
type entry struct {
	key      string
	failures int           // since start
	start    time.Time     // of the current window
	last     time.Time     // of the last failure (or of the first attempt)
	until    time.Time     // end of the current lockout
	lockout  time.Duration // length of the last lockout; 0: none yet
	pending  int           // attempts allowed and not yet answered
}

// New returns a Guard.
func New(cfg Config) (*Guard, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Guard{cfg: cfg, addrs: make(map[string]*list.Element)}, nil
}

// Allow reports whether key may try to log in now; if not, it returns how
// long until it may.
func (g *Guard) Allow(key string) (retryAfter time.Duration, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.cfg.Now()
	e := g.entry(key, now)
	if now.Before(e.until) {
		return e.until.Sub(now), false
	}
	g.expireWindow(e, now)
	if e.failures+e.pending >= g.cfg.MaxFailures {
		return pendingRetry, false
	}
	e.pending++
	return 0, true
}

// Failed records a failed login of key and returns the length of the
// lockout it starts (0: none).
func (g *Guard) Failed(key string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.cfg.Now()
	e := g.entry(key, now)
	e.pending = max(e.pending-1, 0)
	g.expireWindow(e, now)
	if e.failures == 0 {
		e.start = now
	}
	e.failures++
	e.last = now
	g.lru.MoveToFront(g.addrs[key])
	if e.failures < g.cfg.MaxFailures || now.Before(e.until) {
		return 0
	}
	e.failures = 0
	e.lockout = g.nextLockout(e.lockout)
	e.until = now.Add(e.lockout)
	return e.lockout
}

// Succeeded records a successful login of key, which forgets its failures
// and lockouts.
func (g *Guard) Succeeded(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if el, ok := g.addrs[key]; ok {
		g.remove(el)
	}
}

// Inconclusive records the end of an attempt of key that was neither a
// failed login nor a successful one (no answer, a busy mount).
func (g *Guard) Inconclusive(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if el, ok := g.addrs[key]; ok {
		e := el.Value.(*entry)
		e.pending = max(e.pending-1, 0)
		if e.pending == 0 && e.failures == 0 && e.lockout == 0 {
			g.remove(el) // nothing worth remembering
		}
	}
}

// Len returns the number of addresses remembered.
func (g *Guard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.addrs)
}

// entry returns key's entry, first forgetting expired ones and making
// room for a new one.
func (g *Guard) entry(key string, now time.Time) *entry {
	g.expire(now)
	if el, ok := g.addrs[key]; ok {
		return el.Value.(*entry)
	}
	for len(g.addrs) >= g.cfg.MaxAddresses {
		g.remove(g.lru.Back())
	}
	e := &entry{key: key, last: now}
	g.addrs[key] = g.lru.PushFront(e)
	return e
}

// expire forgets the addresses that have not failed for ForgetAfter,
// from the least recent: their lockouts (at most MaxLockout) are over.
func (g *Guard) expire(now time.Time) {
	for el := g.lru.Back(); el != nil; el = g.lru.Back() {
		if now.Sub(el.Value.(*entry).last) < g.cfg.ForgetAfter {
			return
		}
		g.remove(el)
	}
}

func (g *Guard) remove(el *list.Element) {
	delete(g.addrs, g.lru.Remove(el).(*entry).key)
}

// expireWindow starts counting e's failures afresh when its window is over.
func (g *Guard) expireWindow(e *entry, now time.Time) {
	if e.failures > 0 && now.Sub(e.start) >= g.cfg.Window {
		e.failures = 0
	}
}

// nextLockout returns the length of the lockout after one of last.
func (g *Guard) nextLockout(last time.Duration) time.Duration {
	if last == 0 {
		return g.cfg.Lockout
	}
	return min(2*last, g.cfg.MaxLockout)
}
