package httpfe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// Server is the front-end's HTTP server: a Handler behind a net/http server
// with header timeouts and size limits, on a listener bound by New.
type Server struct {
	h      *Handler
	ln     net.Listener
	srv    *http.Server
	cancel context.CancelFunc // ends every request's context
}

// New binds cfg.Addr and returns a Server ready to Run. When cfg.HTTPPort is
// zero and Addr's port is 0, redirects use the port actually bound. Call Run,
// or Close to release the listener without serving.
func New(cfg Config, cluster Cluster, reg prometheus.Registerer, log *slog.Logger) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("httpfe: listening on %s: %w", cfg.Addr, err)
	}
	if cfg.HTTPPort == 0 {
		cfg.HTTPPort = ln.Addr().(*net.TCPAddr).Port
	}
	h, err := NewHandler(cfg, cluster, reg, log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	base, cancel := context.WithCancel(context.Background())
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelDebug),
	}
	return &Server{h: h, ln: ln, srv: srv, cancel: cancel}, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Handler returns the server's handler (for its Status).
func (s *Server) Handler() *Handler { return s.h }

// Run serves until ctx is done, then shuts down: it stops accepting, ends
// streams and forwarded sources, and waits up to Config.ShutdownTimeout for
// the other requests in flight. It returns nil after a shutdown caused by
// ctx, or the error that stopped serving.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	pageCtx, stopPage := context.WithCancel(ctx)
	pageDone := make(chan struct{})
	go func() { defer close(pageDone); s.h.page.Run(pageCtx) }()
	defer func() { stopPage(); <-pageDone }()
	select {
	case err := <-errc:
		s.stop()
		return fmt.Errorf("httpfe: serving: %w", err)
	case <-ctx.Done():
	}
	err := s.shutdown()
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// Close releases the listener of a server that is not running.
func (s *Server) Close() error {
	s.stop()
	s.srv.Close()
	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("httpfe: closing the listener: %w", err)
	}
	return nil
}

// stop ends long-lived requests: proxied streams through their context,
// forwarded sources by closing their connections.
func (s *Server) stop() {
	s.cancel()
	s.h.Close()
}

func (s *Server) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.h.cfg.ShutdownTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(ctx) }()
	s.stop()
	if err := <-done; err != nil {
		s.srv.Close()
		return fmt.Errorf("httpfe: shutting down: %w", err)
	}
	return nil
}
