package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"autoradio/internal/audiotest"
	"autoradio/internal/browsertest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/testenv"
	"autoradio/internal/tlstest"
)

// httpsCurlArgs make curl resolve the cluster's names to the pair's addresses
// and trust the test CA.
func httpsCurlArgs(p *pair, port int, caFile string) []string {
	args := []string{"--cacert", caFile,
		"--resolve", fmt.Sprintf("radio.test:%d:%s", port, p.f2.IP)}
	for _, f := range []*ct.Redirectord{p.f1, p.f2} {
		args = append(args, "--resolve", fmt.Sprintf("%s.radio.test:%d:%s", f.Name, port, f.IP))
	}
	return args
}

// sClientLeaf connects to ip:port with openssl s_client for name,
// verifying the chain and the name against the CAs in caFile, and
// returns the certificate it was served.
func sClientLeaf(ctx context.Context, ip string, port int, name, caFile string) (*x509.Certificate, error) {
	cmd := exec.CommandContext(ctx, "openssl", "s_client", "-connect", net.JoinHostPort(ip, strconv.Itoa(port)),
		"-servername", name, "-CAfile", caFile, "-verify_return_error", "-verify_hostname", name)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("openssl s_client %s:%d: %v: %s", ip, port, err, out)
	}
	if !strings.Contains(string(out), "Verify return code: 0 (ok)") {
		return nil, fmt.Errorf("openssl s_client %s:%d: chain not verified: %s", ip, port, out)
	}
	start := strings.Index(string(out), "-----BEGIN CERTIFICATE-----")
	if start < 0 {
		return nil, fmt.Errorf("openssl s_client %s:%d: no certificate in %s", ip, port, out)
	}
	b, _ := pem.Decode(out[start:])
	if b == nil {
		return nil, fmt.Errorf("openssl s_client %s:%d: bad certificate in %s", ip, port, out)
	}
	return x509.ParseCertificate(b.Bytes)
}

// TestHTTPSFromFiles serves HTTPS from certificate files: a source pushes
// over TLS, a listener follows the redirect over HTTPS and decodes what
// it gets, playlists list https:// URLs, and a certificate replaced on
// disk is served without a restart.
func TestHTTPSFromFiles(t *testing.T) {
	testenv.RequireBinaries(t, "openssl", "curl", "ffprobe")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ips := []string{"127.0.0.91", "127.0.0.92"}
	ca := tlstest.NewCA(t, "autoradio test CA")
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, key := ca.Issue(t, time.Hour, "radio.test", "*.radio.test")
	certFile, keyFile := tlstest.WriteFiles(t, dir, cert, key)
	httpsPort := ct.FreePort(t, ips...)
	p := startPairWith(t, ips, func(ip string) []string {
		return []string{"--https-addr", net.JoinHostPort(ip, strconv.Itoa(httpsPort)),
			"--tls-cert", certFile, "--tls-key", keyFile}
	})

	for _, f := range []*ct.Redirectord{p.f1, p.f2} {
		leaf, err := sClientLeaf(ctx, f.IP, httpsPort, f.Name+".radio.test", caFile)
		if err != nil {
			t.Fatal(err)
		}
		if cn := leaf.Subject.CommonName; cn != "radio.test" {
			t.Errorf("%s serves CN=%s, want CN=radio.test", f.Name, cn)
		}
	}

	// A source over TLS, through n2's front-end, to the master n1.
	m := ct.NewMount(t, "/tls.mp3")
	if err := p.c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	audiotest.Source(t, fmt.Sprintf("https://%s:%s@%s%s", m.Username, m.Password,
		net.JoinHostPort(p.f2.IP, strconv.Itoa(httpsPort)), m.Name))
	p.r1.WaitSource(20*time.Second, m.Name)
	testenv.Eventually(t, 15*time.Second, func() error { return mountLiveOn(p.c, m.Name, 2) })

	curl := httpsCurlArgs(p, httpsPort, caFile)
	base := fmt.Sprintf("https://radio.test:%d", httpsPort)
	loc := curlOut(ctx, t, append(curl, "-o", "/dev/null", "-w", "%{redirect_url}", base+m.Name)...)
	if !strings.HasPrefix(loc, "https://n") || !strings.Contains(loc, fmt.Sprintf(".radio.test:%d/_stream/tls.mp3", httpsPort)) {
		t.Errorf("redirect over HTTPS to %q, want https://<node>.radio.test:%d/_stream/tls.mp3", loc, httpsPort)
	}
	curlDecodes(t, ctx, base+m.Name, curl...)
	if got, want := curlOut(ctx, t, append(curl, base+m.Name+".m3u")...), base+m.Name+"\n"; got != want {
		t.Errorf("playlist over HTTPS: %q, want %q", got, want)
	}
	if got := get(t, p.f2.URL(m.Name+".m3u")); !strings.HasPrefix(got, "http://") {
		t.Errorf("playlist over HTTP: %q, want an http:// URL", got)
	}

	browserPlays(ctx, t, p, httpsPort, cert, base+"/", base+m.Name)

	cert, key = ca.Issue(t, time.Hour, "stream.radio.test", "radio.test", "*.radio.test")
	tlstest.WriteFiles(t, dir, cert, key)
	for _, f := range []*ct.Redirectord{p.f1, p.f2} {
		testenv.Eventually(t, 10*time.Second, func() error {
			leaf, err := sClientLeaf(ctx, f.IP, httpsPort, "radio.test", caFile)
			if err == nil && leaf.Subject.CommonName != "stream.radio.test" {
				err = fmt.Errorf("%s serves CN=%s, want the new CN=stream.radio.test", f.Name, leaf.Subject.CommonName)
			}
			return err
		})
	}
}

// curlOut runs curl and returns its output.
func curlOut(ctx context.Context, t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "curl", append([]string{"-sS", "--max-time", "5"}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// browserPlays has headless Chromium open pageURL, an HTTPS page of the
// cluster, and play the https:// stream audioURL in an <audio> element,
// trusting the key of certPEM only, and checks that playback advances.
func browserPlays(ctx context.Context, t *testing.T, p *pair, port int, certPEM []byte, pageURL, audioURL string) {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	leaf, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	spki := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	rules := "MAP radio.test " + p.f2.IP
	for _, f := range []*ct.Redirectord{p.f1, p.f2} {
		rules += ", MAP " + f.Name + ".radio.test " + f.IP
	}
	out := browsertest.Script(ctx, t, "https-audio.mjs", pageURL, audioURL, rules, base64.StdEncoding.EncodeToString(spki[:]))
	var got struct {
		CurrentTime  float64 `json:"currentTime"`
		Error        *string `json:"error"`
		Src          string  `json:"src"`
		PageStatus   int     `json:"pageStatus"`
		PageProtocol string  `json:"pageProtocol"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decoding %q: %v", out, err)
	}
	t.Logf("Chromium: %s", out)
	if got.PageStatus != 200 || got.PageProtocol != "https:" || got.Error != nil || got.CurrentTime < 3 {
		t.Errorf("Chromium playing %s on %s: %s", audioURL, pageURL, out)
	}
}
