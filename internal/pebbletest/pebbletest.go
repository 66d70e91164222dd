// Package pebbletest runs Pebble, Let's Encrypt's ACME test server, on a
// loopback address for tests, built from the Go module proxy at a fixed
// version into the repository's bin/ the first time it is needed.
package pebbletest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"autoradio/internal/testenv"
	"autoradio/internal/tlstest"
)

// Module is the Pebble command built, at Version.
const (
	Module  = "github.com/letsencrypt/pebble/v2/cmd/pebble"
	Version = "v2.10.3"
)

var buildMu sync.Mutex

// Binary returns the path of bin/pebble in the repository, installing
// it with go install when it is missing. It fails the test when that
// fails: Pebble is part of what the tests need.
func Binary(t testing.TB) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	_, file, _, _ := runtime.Caller(0)
	bin, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(bin, "pebble")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	cmd := exec.Command("go", "install", Module+"@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s@%s: %v\n%s", Module, Version, err, out)
	}
	return path
}

// Pebble is a Pebble, set up by New and run by Start.
type Pebble struct {
	// Directory is its ACME directory URL.
	Directory string
	// CAFile holds the CA of its own HTTPS certificate, for clients of
	// the ACME API (redirectord --acme-ca).
	CAFile string
	// Proc is the process, once started.
	Proc *testenv.Proc

	t                 testing.TB
	dir, ip           string
	listen, mgmt      string // host:port of the ACME and management APIs
	certFile, keyFile string
	httpPort, tlsPort int
	client            *http.Client
}

// New prepares a Pebble on ip: its addresses, its own HTTPS certificate
// and the CA of that certificate. Nothing runs before Start.
func New(t testing.TB, ip string) *Pebble {
	t.Helper()
	Binary(t) // now, rather than while the test waits for Pebble
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "pebble API test CA")
	cert, key := ca.Issue(t, time.Hour, ip)
	p := &Pebble{t: t, dir: dir, ip: ip, CAFile: filepath.Join(dir, "ca.pem")}
	p.certFile, p.keyFile = tlstest.WriteFiles(t, dir, cert, key)
	if err := os.WriteFile(p.CAFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	port := func() int { return testenv.FreePort(t, ip) }
	p.listen, p.mgmt = net.JoinHostPort(ip, strconv.Itoa(port())), net.JoinHostPort(ip, strconv.Itoa(port()))
	p.httpPort, p.tlsPort = port(), port()
	p.Directory = "https://" + p.listen + "/dir"
	p.client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	return p
}

// Start runs Pebble, validating DNS-01 challenges by asking the DNS
// server at dnsServer (host:port), and issuing certificates valid for
// validity. Its VA does not sleep before validating, it reuses no
// authorization, and it sends no spurious badNonce errors. Start waits
// until the directory answers.
func (p *Pebble) Start(dnsServer string, validity time.Duration) {
	t := p.t
	t.Helper()
	bin := Binary(t)
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":           p.listen,
		"managementListenAddress": p.mgmt,
		"certificate":             p.certFile,
		"privateKey":              p.keyFile,
		"httpPort":                p.httpPort,
		"tlsPort":                 p.tlsPort,
		"ocspResponderURL":        "",
		"retryAfter":              map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":            "ecdsa",
		"profiles": map[string]any{"default": map[string]any{
			"description": "test", "validityPeriod": int(validity.Seconds())}},
	}}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(p.dir, "pebble.json")
	if err := os.WriteFile(cfgFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", cfgFile, "-dnsserver", dnsServer)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	p.Proc = testenv.StartCmd(t, cmd)
	testenv.Eventually(t, 30*time.Second, func() error {
		_, err := p.get(context.Background(), p.Directory)
		return err
	})
}

// Roots returns the PEM of the root that signs the certificates Pebble
// issues: a new one each time Pebble starts.
func (p *Pebble) Roots(ctx context.Context) ([]byte, error) {
	return p.get(ctx, "https://"+p.mgmt+"/roots/0")
}

func (p *Pebble) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, err
}
