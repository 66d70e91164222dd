package splice

import "sync"

// A Conn is what a Registry tracks: typically a pair of spliced
// connections, which Close ends.
type Conn interface {
	comparable
	Close()
}

// Registry tracks connections in flight (hijacked from an HTTP server, or
// accepted from a listener) so that their owner can close them and wait
// for the goroutines serving them. The zero value is ready to use.
type Registry[C Conn] struct {
	mu     sync.Mutex
	conns  map[C]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Add registers c, which its server must pass to Done when it is over;
// false (c is not registered) once the registry is closed.
func (r *Registry[C]) Add(c C) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	if r.conns == nil {
		r.conns = map[C]struct{}{}
	}
	r.conns[c] = struct{}{}
	r.wg.Add(1)
	return true
}

// Done reports that the server of c, registered by Add, is over.
func (r *Registry[C]) Done(c C) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	r.wg.Done()
}

// CloseIf closes the connections for which match is true, and returns
// how many.
func (r *Registry[C]) CloseIf(match func(C) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for c := range r.conns {
		if match(c) {
			c.Close()
			delete(r.conns, c)
			n++
		}
	}
	return n
}

// Range calls fn for each connection, with the registry locked: fn must
// not block, nor call the registry.
func (r *Registry[C]) Range(fn func(C)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		fn(c)
	}
}

// Close closes every connection, refuses new ones, and waits until the
// server of each is done.
func (r *Registry[C]) Close() {
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}
