package httpfe

import (
	"context"
	"crypto/tls"
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
	tlsLn  net.Listener // nil without HTTPS
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
	var tlsLn net.Listener
	if cfg.HTTPSAddr != "" {
		if tlsLn, err = net.Listen("tcp", cfg.HTTPSAddr); err != nil {
			ln.Close()
			return nil, fmt.Errorf("httpfe: listening on %s: %w", cfg.HTTPSAddr, err)
		}
		if cfg.HTTPSPort == 0 {
			cfg.HTTPSPort = tlsLn.Addr().(*net.TCPAddr).Port
		}
	}
	h, err := NewHandler(cfg, cluster, reg, log)
	if err != nil {
		ln.Close()
		if tlsLn != nil {
			tlsLn.Close()
		}
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
	if tlsLn != nil {
		srv.TLSConfig = tlsConfig(cfg.GetCertificate)
		// A non-nil empty map keeps net/http from adding HTTP/2.
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	return &Server{h: h, ln: ln, tlsLn: tlsLn, srv: srv, cancel: cancel}, nil
}

// tlsConfig serves TLS 1.2 or later and HTTP/1.1 only: HTTP/2 multiplexes
// requests on one connection, which net/http then cannot hand over
// (hijack) to the stream fan-out and the source relay. The TLS handshake
// is bounded by the server's ReadHeaderTimeout.
func tlsConfig(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
		GetCertificate: get,
	}
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// HTTPSAddr returns the address the server listens on for HTTPS, or nil.
func (s *Server) HTTPSAddr() net.Addr {
	if s.tlsLn == nil {
		return nil
	}
	return s.tlsLn.Addr()
}

// Handler returns the server's handler (for its Status).
func (s *Server) Handler() *Handler { return s.h }

// Run serves until ctx is done, then shuts down: it stops accepting, ends
// streams and forwarded sources, and waits up to Config.ShutdownTimeout for
// the other requests in flight. It returns nil after a shutdown caused by
// ctx, or the error that stopped serving.
func (s *Server) Run(ctx context.Context) error {
	serving := 1
	errc := make(chan error, 2)
	go func() { errc <- s.srv.Serve(s.ln) }()
	pageCtx, stopPage := context.WithCancel(ctx)
	pageDone := make(chan struct{})
	go func() { defer close(pageDone); s.h.page.Run(pageCtx) }()
	defer func() { stopPage(); <-pageDone }()
	if s.tlsLn != nil {
		serving++
		go func() { errc <- s.srv.ServeTLS(s.tlsLn, "", "") }()
	}
	var err error
	select {
	case err = <-errc:
		serving--
		err = fmt.Errorf("httpfe: serving: %w", err)
	case <-ctx.Done():
	}
	err = errors.Join(err, s.shutdown())
	for ; serving > 0; serving-- {
		if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}
	return err
}

// Close releases the listener of a server that is not running.
func (s *Server) Close() error {
	s.stop()
	s.srv.Close()
	for _, ln := range []net.Listener{s.ln, s.tlsLn} {
		if ln == nil {
			continue
		}
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("httpfe: closing the listener: %w", err)
		}
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
