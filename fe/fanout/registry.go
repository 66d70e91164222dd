package fanout

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"autoradio"
)

// Fanout shares one upstream connection per mount (a feed) among all the
// listeners of that mount. Close it to end every feed and listener.
type Fanout struct {
	cfg    Config
	m      *metrics
	log    *slog.Logger
	ctx    context.Context // ends every feed and listener
	cancel context.CancelFunc
	wg     sync.WaitGroup // feed and listener goroutines

	mu     sync.Mutex
	feeds  map[feedKey]*feed
	total  int // listeners of every mount
	closed bool

	// lost is when the local Icecast's relays were last lost (unix
	// nanoseconds; see LocalLost).
	lost atomic.Int64
}

// Errors of Serve before it takes the connection; their text is meant for
// the listener.
var (
	ErrFull   = errors.New("too many proxied listeners")
	ErrClosed = errors.New("shutting down")
)

// New returns a Fanout whose metrics are registered with reg.
func New(cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Fanout, error) {
	if cfg.Upstream == nil {
		return nil, errors.New("fanout: config: Upstream is required")
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Fanout{cfg: cfg.withDefaults(), m: m, log: log, ctx: ctx, cancel: cancel, feeds: map[feedKey]*feed{}}, nil
}

// A feedKey names a feed: a mount, with Icy metadata (titles inserted
// into the stream, for listeners that ask with Icy-MetaData: 1) or
// without.
type feedKey struct {
	mount string
	icy   bool
}

// join counts one more listener of the feed k, starting it if needed;
// limit (0: none) bounds the listeners of all mounts. Call leave when done.
func (f *Fanout) join(k feedKey, limit int) (*feed, error) {
	return f.attach(k, limit, true)
}

// attach starts the feed k if needed and keeps it open until detach; a
// counted attachment is a listener.
func (f *Fanout) attach(k feedKey, limit int, counted bool) (*feed, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, ErrClosed
	}
	if limit > 0 && f.total >= limit {
		return nil, ErrFull
	}
	fd := f.feeds[k]
	if fd == nil {
		fd = newFeed(f, k)
		f.feeds[k] = fd
		f.wg.Add(1)
		go fd.run()
	}
	if fd.grace != nil {
		fd.grace.Stop()
		fd.grace = nil
	}
	if !counted {
		fd.readers++
		return fd, nil
	}
	fd.listeners++
	f.total++
	return fd, nil
}

// leave counts a listener out of fd, and closes fd after the grace period
// when it was the last.
func (f *Fanout) leave(fd *feed) { f.detach(fd, true) }

// detach ends an attachment to fd, and closes fd after the grace period
// when it was the last.
func (f *Fanout) detach(fd *feed, counted bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if counted {
		fd.listeners--
		f.total--
	} else {
		fd.readers--
	}
	if fd.listeners+fd.readers == 0 && f.feeds[fd.key] == fd {
		fd.grace = time.AfterFunc(f.cfg.Grace, func() { f.expire(fd) })
	}
}

// expire closes fd if it still has no listener.
func (f *Fanout) expire(fd *feed) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fd.listeners+fd.readers == 0 && f.feeds[fd.key] == fd {
		delete(f.feeds, fd.key)
		fd.cancel()
	}
}

// forget removes fd from the map once it has ended, so that the next
// listener starts a new feed.
func (f *Fanout) forget(fd *feed) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.feeds[fd.key] == fd {
		delete(f.feeds, fd.key)
	}
	if fd.grace != nil {
		fd.grace.Stop()
	}
}

// Counts returns the listeners of each mount that has a feed, open or
// opening, and whether its upstream is connected.
func (f *Fanout) Counts() map[string]autoradio.ProxiedMount {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]autoradio.ProxiedMount, len(f.feeds))
	for k, fd := range f.feeds {
		c := out[k.mount]
		c.Listeners += fd.listeners
		if fd.connected.Load() {
			c.Upstreams++
		}
		out[k.mount] = c
	}
	return out
}

// Listeners returns the listeners of every mount.
func (f *Fanout) Listeners() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// Close ends every feed and listener, refuses new listeners, and waits
// for their goroutines.
func (f *Fanout) Close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
}
