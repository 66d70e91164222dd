// Package relayproxy carries the local Icecast's relay connections to the
// current master, so that a change of master never changes Icecast's
// config.
//
// Icecast 2.4 deadlocks when a reload replaces a relay that is still
// connecting to its master and that attempt then fails (see TUNING.md):
// exactly what happens when a master is cut off and another is elected.
// Relaying through a local proxy, the relays of a node always point at
// the same address. When the master changes, new connections go to the
// new one, and the proxy keeps those to the old one until it is told to
// close them (CloseStale): radiod does once the new master serves the
// mounts, or at once when the old one is gone; Icecast's relays then
// reconnect by themselves (within a second, to the new master), with no
// reload. When the node itself becomes master, the proxy refuses and
// closes every relay connection before the config without relays is
// loaded, so that no relay is left connecting when Icecast removes them.
package relayproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"autoradio/internal/splice"
)

// Timeouts of a relayed connection.
const (
	// DialTimeout bounds the connection to the master: less than the
	// header timeout of the Icecast waiting for the master's answer.
	DialTimeout = 5 * time.Second
	// IdleTimeout closes a connection on which the master sent nothing
	// for that long. Icecast's own source timeout is shorter; this is
	// the proxy's backstop.
	IdleTimeout = time.Minute
)

// Proxy accepts connections on a local address and carries each, byte
// for byte, to the upstream (the master's Icecast).
type Proxy struct {
	ln  net.Listener
	log *slog.Logger

	mu       sync.Mutex
	upstream string // host:port; "": connections are refused
	conns    splice.Registry[*relayed]

	// Lost, when not nil, is called when an established connection is
	// ended by its upstream (the master's Icecast went away): the local
	// Icecast then plays the fallback until its relay reconnects. It
	// must not block. Set it before Run.
	Lost func()
}

// relayed is one connection from Icecast and its way to the upstream.
type relayed struct {
	upstream string
	down     net.Conn
	ctx      context.Context // ends when the connection is closed
	cancel   context.CancelFunc
	mu       sync.Mutex
	up       net.Conn  // nil while dialing
	upAt     time.Time // when up was established
	closed   bool
}

// Close ends both sides; a dial in progress is cancelled.
func (r *relayed) Close() {
	r.cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.down.Close()
	if r.up != nil {
		r.up.Close()
	}
}

// connected reports whether the connection to the upstream is
// established.
func (r *relayed) connected() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.up != nil && !r.closed
}

// connectedAfter reports whether the connection to the upstream was
// established after t, and still is.
func (r *relayed) connectedAfter(t time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.up != nil && !r.closed && r.upAt.After(t)
}

// setUp records the connection to the upstream; false when the
// connection was closed meanwhile.
func (r *relayed) setUp(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.up, r.upAt = c, time.Now()
	return true
}

// Listen opens the proxy's listener on ip, on a port of the system's
// choice. The proxy refuses connections until SetUpstream is given one.
func Listen(ip string, log *slog.Logger) (*Proxy, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return nil, fmt.Errorf("relayproxy: %w", err)
	}
	return &Proxy{ln: ln, log: log.With("component", "relayproxy")}, nil
}

// Addr is the address Icecast's relays connect to.
func (p *Proxy) Addr() (ip string, port int) {
	a := p.ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// SetUpstream sets where new connections go, host:port, or "" to refuse
// them. The connections to a previous upstream stay until CloseStale,
// except with "": every connection is closed at once. It returns how
// many connections it closed.
func (p *Proxy) SetUpstream(addr string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if addr == p.upstream {
		return 0
	}
	p.upstream = addr
	if addr != "" {
		return 0
	}
	return p.closeStale()
}

// CloseStale closes the connections to other upstreams than the current
// one, and returns how many.
func (p *Proxy) CloseStale() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeStale()
}

// closeStale is CloseStale; p.mu must be held.
func (p *Proxy) closeStale() int {
	n := p.conns.CloseIf(func(r *relayed) bool { return r.upstream != p.upstream })
	if n > 0 {
		p.log.Info("closed the relay connections to the previous master", "connections", n, "upstream", p.upstream)
	}
	return n
}

// Stale reports how many connections go to other upstreams than the
// current one.
func (p *Proxy) Stale() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	p.conns.Range(func(r *relayed) {
		if r.upstream != p.upstream {
			n++
		}
	})
	return n
}

// Established reports how many connections to the current upstream
// were established after t.
func (p *Proxy) Established(t time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	p.conns.Range(func(r *relayed) {
		if r.upstream == p.upstream && r.connectedAfter(t) {
			n++
		}
	})
	return n
}

// Upstreams lists the upstreams that connections are established to,
// sorted.
func (p *Proxy) Upstreams() []string {
	var ups []string
	p.conns.Range(func(r *relayed) {
		if r.connected() && !slices.Contains(ups, r.upstream) {
			ups = append(ups, r.upstream)
		}
	})
	slices.Sort(ups)
	return ups
}

// Run serves connections until ctx ends, then closes them all and
// returns once every one has stopped.
func (p *Proxy) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { p.ln.Close() })
	defer stop()
	defer p.conns.Close() // waits for every connection
	defer p.SetUpstream("")
	defer p.ln.Close()
	for {
		c, err := p.ln.Accept()
		switch {
		case ctx.Err() != nil:
			if c != nil {
				c.Close()
			}
			return nil
		case errors.Is(err, net.ErrClosed):
			return fmt.Errorf("relayproxy: accepting: %w", err)
		case err != nil:
			// Out of descriptors, say: Icecast's relay retries.
			p.log.Warn("accepting a relay connection", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		r := p.track(ctx, c)
		if r == nil {
			c.Close()
			continue
		}
		go p.serve(r)
	}
}

// track registers a new connection, to be served by serve; nil when
// connections are refused. The upstream is read and the connection
// registered under p.mu, so that SetUpstream closes it if it changes.
func (p *Proxy) track(ctx context.Context, c net.Conn) *relayed {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.upstream == "" {
		return nil
	}
	rctx, cancel := context.WithCancel(ctx)
	r := &relayed{upstream: p.upstream, down: c, ctx: rctx, cancel: cancel}
	if !p.conns.Add(r) {
		cancel()
		return nil
	}
	return r
}

// serve dials the upstream and copies both ways until either side ends.
func (p *Proxy) serve(r *relayed) {
	defer p.conns.Done(r)
	defer r.Close()
	dctx, cancel := context.WithTimeout(r.ctx, DialTimeout)
	var d net.Dialer
	up, err := d.DialContext(dctx, "tcp", r.upstream)
	cancel()
	if err != nil {
		p.log.Debug("connecting a relay to the master", "upstream", r.upstream, "err", err)
		return
	}
	if !r.setUp(up) {
		up.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Icecast sends its request, then nothing: this side ends when
		// the other does (both connections are closed then).
		pipe(up, r.down, 0)
		r.Close()
	}()
	from := &upstreamReader{Conn: up}
	pipe(r.down, from, IdleTimeout)
	if from.err != nil && !r.isClosed() && p.Lost != nil {
		p.log.Info("the master's Icecast ended a relay connection", "upstream", r.upstream, "err", from.err)
		p.Lost()
	}
	r.Close()
	<-done
}

// upstreamReader records how reading the upstream failed, to tell it
// from a failure on the local Icecast's side.
type upstreamReader struct {
	net.Conn
	err error
}

func (u *upstreamReader) Read(p []byte) (int, error) {
	n, err := u.Conn.Read(p)
	if err != nil {
		u.err = err
	}
	return n, err
}

// isClosed reports whether the proxy closed r.
func (r *relayed) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// pipe copies src to dst until either fails. idle > 0 bounds each read
// of src; every write is bounded by IdleTimeout.
func pipe(dst, src net.Conn, idle time.Duration) {
	splice.Copy(dst, src, src, make([]byte, 32<<10), idle, IdleTimeout, nil)
}
