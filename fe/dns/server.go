package dns

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// Server serves a Handler on UDP and TCP at one address. Set the fields,
// then call Run (optionally Listen first, to learn a port-0 address). A
// Server runs once.
type Server struct {
	// Addr is host:port to listen on, default ":53". With port 0 the
	// system picks a free port, the same one for UDP and TCP.
	Addr string
	// Handler answers the queries. Required.
	Handler mdns.Handler
	// UDPSize is the largest UDP query read whole; longer ones are
	// truncated, which makes them malformed. Default DefaultUDPSize.
	UDPSize int
	// ReadTimeout bounds reading a TCP query. Default 2s.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a reply. Default 2s.
	WriteTimeout time.Duration
	// IdleTimeout closes a TCP connection idle this long. Default 8s.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds the wait for queries in flight when Run's
	// context ends. Default 5s.
	ShutdownTimeout time.Duration
	// UDPSockets is how many UDP sockets share the address (SO_REUSEPORT)
	// when Handler answers in wire format (*Handler), each served by its
	// own goroutine. Default GOMAXPROCS.
	UDPSockets int
	// Logger receives diagnostics. Default slog.Default().
	Logger *slog.Logger

	mu  sync.Mutex
	pcs []net.PacketConn // the first one is miekg/dns's, for other handlers
	ln  net.Listener
}

// Server defaults.
const (
	DefaultAddr            = ":53"
	DefaultUDPSize         = DefaultMaxUDPSize
	DefaultReadTimeout     = 2 * time.Second
	DefaultWriteTimeout    = 2 * time.Second
	DefaultIdleTimeout     = 8 * time.Second
	DefaultShutdownTimeout = 5 * time.Second
)

// ErrServerStopped is returned by Run when a listener stopped although its
// context had not ended.
var ErrServerStopped = errors.New("dns: server stopped unexpectedly")

// Listen binds the UDP and TCP sockets. Run calls it if needed.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pcs != nil {
		return nil
	}
	addr := cmp.Or(s.Addr, DefaultAddr)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("dns: listen: bad address %q: %w", addr, err)
	}
	n := 1
	if _, ok := s.Handler.(udpHandler); ok {
		n = cmp.Or(max(s.UDPSockets, 0), runtime.GOMAXPROCS(0))
	}
	// With port 0, UDP's free port may be taken for TCP: try a few.
	for attempt := 0; ; attempt++ {
		s.pcs, s.ln, err = listenBoth(host, port, n)
		if err == nil || port != "0" || attempt == 10 {
			return err
		}
	}
}

// listenBoth binds n UDP sockets at host:port, then TCP on the port UDP
// got. TCP has no SO_REUSEPORT: another server on the address fails there.
func listenBoth(host, port string, n int) ([]net.PacketConn, net.Listener, error) {
	pcs, err := listenUDP(host, port, n)
	if err != nil {
		return nil, nil, err
	}
	_, bound, _ := net.SplitHostPort(pcs[0].LocalAddr().String())
	ln, err := net.Listen("tcp", net.JoinHostPort(host, bound))
	if err != nil {
		closeAll(pcs)
		return nil, nil, fmt.Errorf("dns: listen tcp: %w", err)
	}
	return pcs, ln, nil
}

// LocalAddr returns the bound host:port ("" before Listen).
func (s *Server) LocalAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pcs == nil {
		return ""
	}
	return s.pcs[0].LocalAddr().String()
}

// Run serves until ctx ends, then stops accepting queries, waits up to
// ShutdownTimeout for those in flight, and returns nil. It returns an
// error if it cannot listen or a listener fails.
func (s *Server) Run(ctx context.Context) error {
	if s.Handler == nil {
		return errors.New("dns: server has no handler")
	}
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	pcs, ln := s.pcs, s.ln
	s.mu.Unlock()
	defer closeAll(pcs)
	defer ln.Close()

	var udp *serving
	if h, ok := s.Handler.(udpHandler); ok {
		udp = s.startLoops(pcs, h)
	} else {
		udp = s.start(&mdns.Server{PacketConn: pcs[0], UDPSize: cmp.Or(max(s.UDPSize, 0), DefaultUDPSize)}, "udp")
	}
	tcp := s.start(&mdns.Server{Listener: ln, IdleTimeout: s.idleTimeout}, "tcp")
	var err error
	select {
	case <-ctx.Done():
	case <-udp.done:
		err = udp.failure()
	case <-tcp.done:
		err = tcp.failure()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmp.Or(max(s.ShutdownTimeout, 0), DefaultShutdownTimeout))
	defer cancel()
	udp.stop(sctx)
	tcp.stop(sctx)
	return err
}

func (s *Server) idleTimeout() time.Duration {
	return cmp.Or(max(s.IdleTimeout, 0), DefaultIdleTimeout)
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default().With("component", "dns")
	}
	return s.Logger.With("component", "dns")
}

// packetFilter is a Handler that decides which packets miekg/dns passes
// on to it, and is told of those that do not parse.
type packetFilter interface {
	accept(mdns.Header) mdns.MsgAcceptAction
	invalid(m []byte, err error)
}

// serving is one miekg/dns server running in its own goroutine, or the
// UDP loops of a udpHandler (srv nil, closing the sockets stops them).
type serving struct {
	srv     *mdns.Server
	close   func()
	network string
	log     *slog.Logger
	started chan struct{} // closed once it serves
	done    chan struct{} // closed when it has returned, err set
	err     error
}

// start completes srv with s's settings and serves it in a goroutine that
// stop waits for.
func (s *Server) start(srv *mdns.Server, network string) *serving {
	sv := &serving{srv: srv, network: network, log: s.logger(),
		started: make(chan struct{}), done: make(chan struct{})}
	srv.Handler = s.Handler
	if f, ok := s.Handler.(packetFilter); ok {
		srv.MsgAcceptFunc, srv.MsgInvalidFunc = f.accept, f.invalid
	}
	srv.ReadTimeout = cmp.Or(max(s.ReadTimeout, 0), DefaultReadTimeout)
	srv.WriteTimeout = cmp.Or(max(s.WriteTimeout, 0), DefaultWriteTimeout)
	srv.NotifyStartedFunc = func() { close(sv.started) }
	go func() {
		defer close(sv.done)
		sv.err = srv.ActivateAndServe()
	}()
	return sv
}

// startLoops serves h on each of pcs in its own goroutine; the first to
// return closes the others' sockets.
func (s *Server) startLoops(pcs []net.PacketConn, h udpHandler) *serving {
	sv := &serving{network: "udp", log: s.logger(), started: make(chan struct{}), done: make(chan struct{}),
		close: func() { closeAll(pcs) }}
	close(sv.started)
	errs := make(chan error, len(pcs))
	for _, pc := range pcs {
		l := &udpLoop{pc: pc, h: h, readSize: cmp.Or(max(s.UDPSize, 0), DefaultUDPSize),
			writeTimeout: cmp.Or(max(s.WriteTimeout, 0), DefaultWriteTimeout), log: sv.log}
		go func() {
			err := l.run()
			sv.close()
			errs <- err
		}()
	}
	go func() {
		defer close(sv.done)
		for range pcs {
			if err := <-errs; err != nil && sv.err == nil {
				sv.err = err
			}
		}
	}()
	return sv
}

// failure explains why a server returned before being told to stop.
func (sv *serving) failure() error {
	if sv.err != nil {
		return fmt.Errorf("dns: serve %s: %w", sv.network, sv.err)
	}
	return fmt.Errorf("%w (%s)", ErrServerStopped, sv.network)
}

// stop shuts the server down, once it has started, and waits for it to
// return or for ctx to end.
func (sv *serving) stop(ctx context.Context) {
	select {
	case <-sv.started:
		if sv.srv == nil {
			sv.close()
			break
		}
		if err := sv.srv.ShutdownContext(ctx); err != nil {
			sv.log.Warn("shutdown", "network", sv.network, "err", err)
		}
	case <-sv.done:
		return
	}
	select {
	case <-sv.done:
	case <-ctx.Done():
		sv.log.Warn("shutdown timed out", "network", sv.network)
	}
}
