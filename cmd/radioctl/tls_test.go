package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/etcdtest"
	"autoradio/internal/tlstest"
)

const debianEtcd = "/usr/bin/etcd"

// pki is a CA with a server certificate for 127.0.0.1 and a client
// certificate, as PEM files in a temporary directory.
type pki struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	p := &pki{ca: filepath.Join(dir, "ca.pem")}
	ca := tlstest.NewCA(t, "autoradio test CA")
	tlstest.WriteFile(t, p.ca, ca.PEM)
	cert, key := ca.Issue(t, 24*time.Hour, "127.0.0.1")
	p.serverCert, p.serverKey = tlstest.WriteFiles(t, t.TempDir(), cert, key)
	cert, key = ca.IssueClient(t, 24*time.Hour, "radioctl")
	p.clientCert, p.clientKey = tlstest.WriteFiles(t, t.TempDir(), cert, key)
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startDebianEtcd runs Debian's etcd 3.4 with client certificate
// authentication on a free loopback port, and returns its client URL once
// it answers a TLS client.
func startDebianEtcd(t *testing.T, p *pki) string {
	t.Helper()
	clientURL := fmt.Sprintf("https://127.0.0.1:%d", freePort(t))
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	cmd := exec.Command(debianEtcd,
		"--name", "tls-test", "--data-dir", filepath.Join(t.TempDir(), "etcd"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "tls-test="+peerURL,
		"--client-cert-auth", "--trusted-ca-file", p.ca, "--cert-file", p.serverCert, "--key-file", p.serverKey,
		"--logger", "zap", "--log-outputs", "stderr")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", debianEtcd, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	cfg := autoradio.EtcdConfig{Endpoints: []string{clientURL}, CAFile: p.ca, CertFile: p.clientCert, KeyFile: p.clientKey}
	if err := waitEtcd(cfg, exited, 20*time.Second); err != nil {
		t.Fatalf("%s: %v\n%s", debianEtcd, err, logs.String())
	}
	return clientURL
}

// waitEtcd polls etcd with a real request until it answers.
func waitEtcd(cfg autoradio.EtcdConfig, exited <-chan struct{}, limit time.Duration) error {
	cli, err := autoradio.NewEtcdClient(cfg)
	if err != nil {
		return err
	}
	defer cli.Close()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_, err := cli.Get(ctx, "health")
		cancel()
		switch {
		case err == nil:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("not ready after %v: %w", limit, err)
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before it was ready")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestDebianEtcdWithClientCertificates(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts Debian's etcd")
	}
	if _, err := os.Stat(debianEtcd); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is needed in CI: %v", debianEtcd, err)
		}
		t.Skipf("%s not installed", debianEtcd)
	}
	p := newPKI(t)
	start := time.Now()
	url := startDebianEtcd(t, p)
	t.Logf("etcd 3.4 with TLS ready after %v", time.Since(start).Round(10*time.Millisecond))
	tlsArgs := func(url, cert string, args ...string) []string {
		return append([]string{"--etcd-urls", url, "--etcd-ca", p.ca, "--etcd-cert", cert, "--etcd-key", p.clientKey, "--timeout", "60s"}, args...)
	}

	if r := runCtl(t, "", tlsArgs(url, p.clientCert, "create-mount", "/tls.ogg")...); r.code != 0 || r.stderr != "" {
		t.Fatalf("create-mount over TLS: %+v", r)
	}
	if r := runCtl(t, "", tlsArgs(url, p.clientCert, "list-mounts")...); r.code != 0 || r.stdout != "/tls.ogg\n" {
		t.Fatalf("list-mounts over TLS: %+v", r)
	}

	// Each mistake fails with its own message before any etcd request,
	// which would only fail after --timeout with "unreachable".
	noCert := filepath.Join(t.TempDir(), "missing.pem")
	plain := "https://" + strings.TrimPrefix(etcdtest.Start(t).URL(), "http://")
	other := newPKI(t)
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"missing client certificate", "--etcd-cert: stat " + noCert, tlsArgs(url, noCert, "list-mounts")},
		{"missing CA", "--etcd-ca: stat /nonexistent", []string{"--etcd-urls", url, "--etcd-ca", "/nonexistent", "--timeout", "60s", "list-mounts"}},
		{"TLS files with an http URL", "--etcd-ca, --etcd-cert, --etcd-key given, but the etcd URLs are http://",
			tlsArgs(strings.Replace(url, "https://", "http://", 1), p.clientCert, "list-mounts")},
		{"http URL on the TLS port", "speaks TLS: use an https:// URL",
			[]string{"--etcd-urls", strings.Replace(url, "https://", "http://", 1), "--timeout", "60s", "list-mounts"}},
		{"https URL on a plain etcd", "does not speak TLS", tlsArgs(plain, p.clientCert, "list-mounts")},
		{"certificate of another CA", "its certificate is not trusted by " + other.ca,
			[]string{"--etcd-urls", url, "--etcd-ca", other.ca, "--timeout", "60s", "list-mounts"}},
		{"mixed URLs", "mixes http:// and https://", tlsArgs(url+",http://127.0.0.1:1", p.clientCert, "list-mounts")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCtl(t, "", tc.args...)
			checkFailure(t, r, 1, tc.want, tc.args)
			t.Logf("%s: %q", tc.name, strings.TrimSpace(r.stderr))
		})
	}
}
