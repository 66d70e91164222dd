package autoradio

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const tlsFixtures = "testdata/etcd-tls"

func TestEtcdConfigDefaults(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	cfg, err := EtcdConfig{CAFile: missing, CertFile: missing, KeyFile: missing}.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Endpoints, []string{DefaultEtcdURL}) || cfg.DialTimeout != 5*time.Second {
		t.Errorf("defaults: endpoints %q, dial timeout %v", cfg.Endpoints, cfg.DialTimeout)
	}
	if cfg.TLS != nil {
		t.Error("TLS configured although the CA file does not exist")
	}
}

func TestEtcdConfigTLS(t *testing.T) {
	ca := filepath.Join(tlsFixtures, "ca.pem")
	cert := filepath.Join(tlsFixtures, "client.pem")
	key := filepath.Join(tlsFixtures, "client.key")
	cfg, err := EtcdConfig{Endpoints: []string{"https://127.0.0.1:2379"}, CAFile: ca, CertFile: cert, KeyFile: key}.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLS == nil || cfg.TLS.RootCAs == nil || len(cfg.TLS.Certificates) != 1 {
		t.Fatalf("TLS config %+v: want the CA and one client certificate", cfg.TLS)
	}

	cfg, err = EtcdConfig{CAFile: ca, CertFile: filepath.Join(t.TempDir(), "none.pem"), KeyFile: key}.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLS == nil || len(cfg.TLS.Certificates) != 0 {
		t.Errorf("with the CA only: TLS %+v, want server verification without a client certificate", cfg.TLS)
	}
}

func TestEtcdConfigRefusesUnusableFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(tlsFixtures, "ca.pem")
	for _, tc := range []struct {
		name string
		cfg  EtcdConfig
		err  string
	}{
		{"garbage CA", EtcdConfig{CAFile: garbage}, "no PEM certificate found"},
		{"CA is a directory", EtcdConfig{CAFile: dir}, "etcd TLS"},
		{"key does not match", EtcdConfig{CAFile: ca, CertFile: filepath.Join(tlsFixtures, "client.pem"), KeyFile: garbage}, "etcd client certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cfg.ClientConfig()
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("got %v, want an error with %q", err, tc.err)
			}
		})
	}
}
