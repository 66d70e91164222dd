//go:build bench

package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"autoradio/internal/testenv"
)

// nginx is the reference HTTP server, run from its own prefix directory
// with its own config, in the foreground; never the system's service.
type nginx struct {
	dir  string
	proc *testenv.Proc
}

// nginxConfig redirects like redirectord on redirectAddr and proxies
// streams to Icecast (buffering off) on proxyAddr; servers are more server
// blocks (nginxTLSServer).
func nginxConfig(dir, redirectAddr, redirectTo, proxyAddr, icecastAddr, servers string) string {
	return fmt.Sprintf(`daemon off;
master_process on;
user root;
worker_processes auto;
worker_rlimit_nofile 20000;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 16000; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen %[2]s;
		location / { return 302 %[3]s$request_uri; }
	}
	server {
		listen %[4]s;
		location / {
			proxy_pass http://%[5]s;
			proxy_buffering off;
		}
	}
%[6]s}
`, dir, redirectAddr, redirectTo, proxyAddr, icecastAddr, servers)
}

// nginxTLSServer is a server block that terminates TLS on addr with the
// certificate and key files and proxies streams to Icecast like
// nginxConfig's proxy: TLS 1.3 only, AES-128-GCM and X25519 only (what Go
// negotiates on a CPU with AES instructions), HTTP/1.1 (no http2), no
// session cache (tickets stay nginx's default, on; Go's server issues
// them too).
func nginxTLSServer(addr, certFile, keyFile, icecastAddr string) string {
	return fmt.Sprintf(`	server {
		listen %[1]s ssl;
		ssl_certificate %[2]s;
		ssl_certificate_key %[3]s;
		ssl_protocols TLSv1.3;
		ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
		ssl_ecdh_curve X25519;
		ssl_session_cache off;
		location / {
			proxy_pass http://%[4]s;
			proxy_buffering off;
		}
	}
`, addr, certFile, keyFile, icecastAddr)
}

func startNginx(t *testing.T, dir, conf, probeAddr string) *nginx {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &nginx{dir: dir}
	n.proc = start(t, "nginx", "-p", dir+"/", "-c", path, "-e", filepath.Join(dir, "error.log"))
	waitTCP(t, probeAddr)
	return n
}

// pids are the master's and its workers'.
func (n *nginx) pids() []int {
	return append([]int{n.proc.PID()}, childrenOf(n.proc.PID())...)
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	var kids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kids = append(kids, p)
		}
	}
	return kids
}

func waitTCP(t testing.TB, addr string) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// zoneOf asks redirectord's DNS for the records the benchmark queries
// (and what the zone needs around them) and returns them as a zone file,
// so that Knot serves the same answers.
func zoneOf(t *testing.T, server, domain string, qs []dns.Question) string {
	t.Helper()
	c := &dns.Client{Timeout: 2 * time.Second}
	var b strings.Builder
	b.WriteString("$ORIGIN " + dns.Fqdn(domain) + "\n")
	for _, q := range qs {
		name, qtype := q.Name, q.Qtype
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qtype)
		r, _, err := c.ExchangeContext(context.Background(), m, server)
		if err != nil {
			t.Fatalf("zone: %s %s: %v", name, dns.TypeToString[qtype], err)
		}
		if len(r.Answer) == 0 {
			t.Fatalf("zone: %s %s: no answer (%s)", name, dns.TypeToString[qtype], dns.RcodeToString[r.Rcode])
		}
		for _, rr := range r.Answer {
			b.WriteString(rr.String() + "\n")
		}
	}
	return b.String()
}

// startKnot runs knotd in the foreground from dir, serving zone for
// domain on addr.
func startKnot(t *testing.T, dir, addr, domain, zone string) *testenv.Proc {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	host, port, _ := net.SplitHostPort(addr)
	if err := os.WriteFile(filepath.Join(dir, domain+".zone"), []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`server:
    rundir: "%[1]s"
    listen: %[2]s@%[3]s
control:
    listen: "%[1]s/knot.sock"
database:
    storage: "%[1]s"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "%[1]s"
zone:
  - domain: %[4]s
    file: "%[4]s.zone"
`, dir, host, port, domain)
	path := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, "knotd", "-c", path)
	testenv.Eventually(t, 10*time.Second, func() error {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(domain), dns.TypeSOA)
		r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, addr)
		if err != nil {
			return err
		}
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
			return fmt.Errorf("knot: SOA: %s", dns.RcodeToString[r.Rcode])
		}
		return nil
	})
	return p
}
