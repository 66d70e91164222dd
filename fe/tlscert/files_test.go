package tlscert

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"autoradio/internal/testenv"
	"autoradio/internal/tlstest"
)

func TestFilesReloadedWhenReplaced(t *testing.T) {
	ca := tlstest.NewCA(t, "test CA")
	dir := t.TempDir()
	cert, key := ca.Issue(t, time.Hour, "one.radio.test")
	certFile, keyFile := tlstest.WriteFiles(t, dir, cert, key)
	reg := prometheus.NewPedanticRegistry()
	s, err := NewStore(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := Files{Cert: certFile, Key: keyFile, Interval: 20 * time.Millisecond}
	if err := f.Load(s); err != nil {
		t.Fatal(err)
	}
	if got := s.Info().Names; len(got) != 1 || got[0] != "one.radio.test" {
		t.Fatalf("names %v, want [one.radio.test]", got)
	}
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetName() != "autoradio_tls_certificate_expiry_timestamp_seconds" ||
		int64(mfs[0].GetMetric()[0].GetGauge().GetValue()) != s.Info().NotAfter.Unix() {
		t.Errorf("metrics %v (%v), want the expiry time", mfs, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Watch(ctx, s) }()
	defer func() { cancel(); <-done }()

	tlstest.WriteFile(t, keyFile, []byte("not a key")) // half-replaced: the old pair stays
	testenv.Eventually(t, 5*time.Second, func() error {
		if s.Info().Error == "" {
			return fmt.Errorf("no error recorded")
		}
		return nil
	})
	if got := s.Info().Names; len(got) != 1 || got[0] != "one.radio.test" {
		t.Fatalf("after a bad key: names %v, want the old certificate's", got)
	}
	cert, key = ca.Issue(t, time.Hour, "two.radio.test")
	tlstest.WriteFiles(t, dir, cert, key)
	testenv.Eventually(t, 5*time.Second, func() error {
		info := s.Info()
		if len(info.Names) != 1 || info.Names[0] != "two.radio.test" || info.Error != "" {
			return fmt.Errorf("serving %v (error %q), want two.radio.test", info.Names, info.Error)
		}
		return nil
	})
}

func TestMissingFilesServeNothing(t *testing.T) {
	s, err := NewStore(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := Files{Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	if err := f.Load(s); err == nil {
		t.Fatal("Load of missing files: no error")
	}
	if _, err := s.GetCertificate(nil); err != ErrNoCertificate {
		t.Errorf("GetCertificate: %v, want ErrNoCertificate", err)
	}
	if s.Info().Error == "" {
		t.Error("no error in Info")
	}
}

func TestExpiredCertificateServedAndLoggedOnce(t *testing.T) {
	var logs strings.Builder
	s, err := NewStore(nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ca := tlstest.NewCA(t, "test CA")
	cert, key := ca.Issue(t, -time.Second, "radio.test") // expired a second ago
	if err := s.SetPEM(cert, key, "test"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if c, err := s.GetCertificate(nil); err != nil || c == nil {
			t.Fatalf("GetCertificate: %v, %v", c, err)
		}
	}
	if n := strings.Count(logs.String(), "EXPIRED"); n != 1 {
		t.Errorf("%d expiry errors logged, want 1:\n%s", n, logs.String())
	}
}
