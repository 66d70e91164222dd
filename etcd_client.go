package autoradio

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// Default locations of the etcd TLS files; TLS is used when they exist.
const (
	DefaultEtcdURL  = "http://localhost:2379"
	DefaultEtcdCA   = "/etc/autoradio/etcd_ca.pem"
	DefaultEtcdCert = "/etc/autoradio/etcd_client.pem"
	DefaultEtcdKey  = "/etc/autoradio/etcd_client.key"
)

// EtcdConfig says how to reach etcd.
type EtcdConfig struct {
	// Endpoints are etcd client URLs. Default: DefaultEtcdURL.
	Endpoints []string
	// CAFile, CertFile and KeyFile are PEM files. When CAFile exists the
	// connection uses TLS with that CA; when CertFile and KeyFile exist too,
	// it authenticates with that client certificate.
	CAFile, CertFile, KeyFile string
	// DialTimeout bounds connection set-up. Default: 5s.
	DialTimeout time.Duration
}

// ClientConfig builds the clientv3 configuration, loading TLS files that
// exist. A file that exists but cannot be used is an error, never silently
// ignored.
func (c EtcdConfig) ClientConfig() (clientv3.Config, error) {
	cfg := clientv3.Config{
		Endpoints:            c.Endpoints,
		DialTimeout:          c.DialTimeout,
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 3 * time.Second,
		Logger:               zap.NewNop(),
		// gRPC's default reconnect back-off grows to 120 s: after a long
		// etcd outage the daemons would take minutes to notice it is back.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
			MinConnectTimeout: 2 * time.Second,
		})},
	}
	if len(cfg.Endpoints) == 0 {
		cfg.Endpoints = []string{DefaultEtcdURL}
	}
	cfg.DialTimeout = cmp.Or(cfg.DialTimeout, 5*time.Second)
	tlsCfg, err := c.tlsConfig()
	if err != nil {
		return cfg, err
	}
	cfg.TLS = tlsCfg
	return cfg, nil
}

// NewEtcdClient connects to etcd. clientv3 dials lazily, so an unreachable
// etcd shows up on the first request, bounded by that request's context.
func NewEtcdClient(c EtcdConfig) (*clientv3.Client, error) {
	cfg, err := c.ClientConfig()
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd client for %v: %w", cfg.Endpoints, err)
	}
	return cli, nil
}

// probeTimeout bounds CheckTLS.
const probeTimeout = 2 * time.Second

// CheckTLS connects to the first endpoint and checks that it speaks what
// its URL says: TLS, with a certificate the CA file vouches for, behind
// https://, and plain gRPC behind http://. clientv3 would only retry such
// a mismatch until its deadline and report the deadline. An endpoint that
// does not answer tells nothing and gives nil: etcd may not run yet.
func (c EtcdConfig) CheckTLS(ctx context.Context) error {
	if len(c.Endpoints) == 0 {
		return nil
	}
	u, err := url.Parse(c.Endpoints[0])
	if err != nil || u.Host == "" {
		return fmt.Errorf("etcd URL %q: want http://HOST:PORT or https://HOST:PORT", c.Endpoints[0])
	}
	switch u.Scheme {
	case "https":
		cfg, err := c.tlsConfig()
		if err != nil {
			return err
		}
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		cfg.ServerName = u.Hostname()
		err = handshake(ctx, u.Host, cfg)
		var notTLS tls.RecordHeaderError
		var untrusted *tls.CertificateVerificationError
		switch {
		case errors.As(err, &untrusted):
			return fmt.Errorf("etcd at %s: its certificate is not trusted by %s: %w", u.Host, caName(c.CAFile), untrusted.Err)
		case errors.As(err, &notTLS) || err != nil && speaksHTTP(ctx, u.Host):
			return fmt.Errorf("etcd at %s does not speak TLS: use an http:// URL, or enable TLS on etcd", u.Host)
		}
	case "http":
		// Only whether a handshake completes is of interest here, not
		// whom it was with: nothing is sent over it.
		probe := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12} //nolint:gosec
		if handshake(ctx, u.Host, probe) == nil {
			return fmt.Errorf("etcd at %s speaks TLS: use an https:// URL (and --etcd-ca)", u.Host)
		}
	}
	return nil
}

// handshake dials addr and makes a TLS handshake, within probeTimeout.
func handshake(ctx context.Context, addr string, cfg *tls.Config) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conn, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

// speaksHTTP tells whether addr answers a plain HTTP request, as an etcd
// without TLS does (a TLS handshake can get no answer from it at all).
func speaksHTTP(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conn, err := new(net.Dialer).DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, "GET /version HTTP/1.0\r\n\r\n"); err != nil {
		return false
	}
	buf := make([]byte, 5)
	_, err = io.ReadFull(conn, buf)
	return err == nil && string(buf) == "HTTP/"
}

// caName says which CAs certificates are checked against.
func caName(file string) string {
	if exists(file) {
		return file
	}
	return "the system CAs (no --etcd-ca file)"
}

func (c EtcdConfig) tlsConfig() (*tls.Config, error) {
	ca, err := readOptional(c.CAFile)
	if err != nil || ca == nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("etcd CA %s: no PEM certificate found", c.CAFile)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if exists(c.CertFile) && exists(c.KeyFile) {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func readOptional(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("etcd TLS: %w", err)
	}
	return data, nil
}

func exists(path string) bool {
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return err == nil
}
