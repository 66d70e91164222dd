// Package embedded runs a single-member etcd server inside the process: the
// one-machine default of radiod (--embedded-etcd) and the etcd of tests.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Config of an embedded etcd server.
type Config struct {
	// Name of the member. Default: "default".
	Name string
	// DataDir holds the member's data; required.
	DataDir string
	// ClientURL is where clients connect, e.g. "http://127.0.0.1:2379".
	// Port 0 picks a free port; see Server.ClientURL. Default:
	// "http://127.0.0.1:0".
	ClientURL string
	// PeerURL is the member's peer URL. Default: "http://127.0.0.1:0".
	PeerURL string
	// StartTimeout bounds how long Start waits for the server to be ready.
	// Default: 30s.
	StartTimeout time.Duration
	// Logger receives etcd's logs. Default: none.
	Logger *zap.Logger
	// MaxRequestBytes is the largest client request the server accepts.
	// Default: etcd's, 1.5 MiB.
	MaxRequestBytes uint
}

// Server is a running embedded etcd.
type Server struct {
	etcd      *embed.Etcd
	clientURL string
	closeOnce sync.Once
}

// Start starts the server and waits until it serves clients.
func Start(ctx context.Context, c Config) (*Server, error) {
	cfg, err := c.embedConfig()
	if err != nil {
		return nil, err
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: start: %w", err)
	}
	s := &Server{etcd: e, clientURL: "http://" + e.Clients[0].Addr().String()}
	timeout := c.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	select {
	case <-e.Server.ReadyNotify():
		return s, nil
	case err := <-e.Err():
		s.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("embedded etcd: waiting for start: %w", ctx.Err())
	case <-time.After(timeout):
		s.Close()
		return nil, errors.New("embedded etcd: not ready after " + timeout.String())
	}
}

func (c Config) embedConfig() (*embed.Config, error) {
	if c.DataDir == "" {
		return nil, errors.New("embedded etcd: no data directory")
	}
	cfg := embed.NewConfig()
	cfg.Name = "default"
	if c.Name != "" {
		cfg.Name = c.Name
	}
	cfg.Dir = c.DataDir
	if c.MaxRequestBytes > 0 {
		cfg.MaxRequestBytes = c.MaxRequestBytes
	}
	clientURL, err := parseURL(c.ClientURL)
	if err != nil {
		return nil, err
	}
	peerURL, err := parseURL(c.PeerURL)
	if err != nil {
		return nil, err
	}
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	logger := c.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(logger)
	return cfg, nil
}

func parseURL(raw string) (*url.URL, error) {
	if raw == "" {
		raw = "http://127.0.0.1:0"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: URL %q: %w", raw, err)
	}
	if u.Scheme != "http" || u.Port() == "" {
		return nil, fmt.Errorf("embedded etcd: URL %q: want http://HOST:PORT", raw)
	}
	return u, nil
}

// ClientURL is the URL clients connect to, with the actual port.
func (s *Server) ClientURL() string { return s.clientURL }

// Err reports a fatal server error after Start.
func (s *Server) Err() <-chan error { return s.etcd.Err() }

// Close stops the server and waits for it; calling it again does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.etcd.Close()
		<-s.etcd.Server.StopNotify()
	})
}
