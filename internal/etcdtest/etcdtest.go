// Package etcdtest starts a real, in-process etcd server for tests.
package etcdtest

import (
	"context"
	"net/url"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"autoradio"
	"autoradio/coordination/embedded"
)

// Server is an embedded etcd bound to 127.0.0.1 that a test can stop and
// start again on the same data directory and port.
type Server struct {
	t       testing.TB
	dataDir string
	url     string
	maxReq  uint
	srv     *embedded.Server
}

// Option changes the server's configuration.
type Option func(*Server)

// MaxRequestBytes makes the server refuse client requests larger than n.
func MaxRequestBytes(n uint) Option { return func(s *Server) { s.maxReq = n } }

// Start runs an etcd on 127.0.0.1 with a free port; it is stopped when the
// test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, dataDir: t.TempDir(), url: "http://127.0.0.1:0"}
	for _, o := range opts {
		o(s)
	}
	s.start()
	u, _ := url.Parse(s.srv.ClientURL())
	s.url = "http://" + u.Host
	t.Cleanup(s.Stop)
	return s
}

// URL is the client URL of the server.
func (s *Server) URL() string { return s.url }

// Endpoints is the client URL as a list, for clientv3.Config.
func (s *Server) Endpoints() []string { return []string{s.url} }

// Stop stops the server; the data directory is kept for Restart.
func (s *Server) Stop() {
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// Restart starts the server again on the same port and data.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

func (s *Server) start() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := embedded.Start(ctx, embedded.Config{DataDir: s.dataDir, ClientURL: s.url, MaxRequestBytes: s.maxReq})
	if err != nil {
		s.t.Fatalf("etcdtest: %v", err)
	}
	s.srv = srv
}

// Client returns a client of the server, closed when the test ends.
func (s *Server) Client() *clientv3.Client {
	s.t.Helper()
	cfg, err := autoradio.EtcdConfig{Endpoints: s.Endpoints()}.ClientConfig()
	if err != nil {
		s.t.Fatalf("etcdtest: client config: %v", err)
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		s.t.Fatalf("etcdtest: client: %v", err)
	}
	s.t.Cleanup(func() { cli.Close() })
	return cli
}
