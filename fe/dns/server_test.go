package dns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/fe/lb"
	"autoradio/internal/testenv"

	mdns "github.com/miekg/dns"
)

// digResult is what dig printed, parsed.
type digResult struct {
	status    string
	flags     []string
	answer    []mdns.RR
	authority []mdns.RR
}

var (
	statusRE = regexp.MustCompile(`status: ([A-Z]+)`)
	flagsRE  = regexp.MustCompile(`;; flags: ([a-z ]*);`)
)

// parseDig reads `dig +noall +comments +answer +authority` output.
func parseDig(out string) (digResult, error) {
	var r digResult
	var section *[]mdns.RR
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case statusRE.MatchString(line):
			r.status = statusRE.FindStringSubmatch(line)[1]
		case flagsRE.MatchString(line):
			r.flags = strings.Fields(flagsRE.FindStringSubmatch(line)[1])
		case strings.HasPrefix(line, ";; ANSWER SECTION"):
			section = &r.answer
		case strings.HasPrefix(line, ";; AUTHORITY SECTION"):
			section = &r.authority
		case line == "" || strings.HasPrefix(line, ";"):
		case section != nil:
			rr, err := mdns.NewRR(line)
			if err != nil {
				return r, fmt.Errorf("parse dig record %q: %w", line, err)
			}
			*section = append(*section, rr)
		}
	}
	if r.status == "" {
		return r, fmt.Errorf("no status in dig output:\n%s", out)
	}
	return r, nil
}

func (r digResult) has(flag string) bool { return slices.Contains(r.flags, flag) }

// digPath returns the dig binary, skipping the test when it is missing
// (failing under CI=true).
func digPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs dig; skipped in -short mode")
	}
	p, err := exec.LookPath("dig")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dig not found: %v", err)
		}
		t.Skipf("dig not found: %v", err)
	}
	return p
}

// dig queries the server at addr and parses the answer.
func dig(t *testing.T, ctx context.Context, bin, addr string, args ...string) digResult {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	argv := append([]string{"@" + host, "-p", port, "+norec", "+time=2", "+tries=1",
		"+noall", "+comments", "+answer", "+authority"}, args...)
	out, err := exec.CommandContext(ctx, bin, argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	r, err := parseDig(string(out))
	if err != nil {
		t.Fatalf("dig %s: %v", strings.Join(argv, " "), err)
	}
	return r
}

func addrs(rrs []mdns.RR) []string {
	var out []string
	for _, rr := range rrs {
		switch rr := rr.(type) {
		case *mdns.A:
			out = append(out, rr.A.String())
		case *mdns.AAAA:
			out = append(out, rr.AAAA.String())
		}
	}
	slices.Sort(out)
	return out
}

func status(name string, listeners int, ips ...string) *autoradio.NodeStatus {
	return &autoradio.NodeStatus{Name: name, IPs: ips, IcecastPort: 8000, IcecastOK: true,
		Listeners: listeners, MaxListeners: 1000, UpdatedAt: time.Now()}
}

// startServer runs a Server for h on 127.0.0.1 port 0 until the test ends.
func startServer(t *testing.T, h *Handler) string {
	t.Helper()
	srv := &Server{Addr: "127.0.0.1:0", Handler: h, Logger: quietLogger()}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return srv.LocalAddr()
}

func TestServerWithDig(t *testing.T) {
	bin := digPath(t)
	ctx := testenv.Context(t, 30*time.Second)

	bal := lb.New(lb.Config{Policy: lb.LeastLoaded})
	bal.Update([]*autoradio.NodeStatus{
		status("node1", 10, "127.0.0.11"),
		status("node2", 20, "127.0.0.12", "::1"),
		status("node3", 30, "127.0.0.13"),
	})
	h, err := NewHandler(Config{Domain: "radio.example.com", Nameservers: []string{"node1", "ns.example.net"},
		MaxRecords: 60, Logger: quietLogger()}, BalancerZone(bal), nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, h)

	t.Run("apex A over UDP and TCP", func(t *testing.T) {
		for _, transport := range []string{"+notcp", "+tcp"} {
			r := dig(t, ctx, bin, addr, "radio.example.com", "A", transport)
			want := []string{"127.0.0.11", "127.0.0.12", "127.0.0.13"}
			if r.status != "NOERROR" || !r.has("aa") || r.has("ra") || !slices.Equal(addrs(r.answer), want) {
				t.Errorf("%s: status %s flags %v answer %v; want NOERROR, aa, no ra, %v", transport, r.status, r.flags, addrs(r.answer), want)
			}
			// Least loaded first.
			if len(r.answer) > 0 && r.answer[0].(*mdns.A).A.String() != "127.0.0.11" {
				t.Errorf("%s: first record %v, want node1's (least loaded)", transport, r.answer[0])
			}
			if len(r.answer) > 0 && r.answer[0].Header().Ttl != 5 {
				t.Errorf("TTL %d, want 5", r.answer[0].Header().Ttl)
			}
		}
	})
	t.Run("node name", func(t *testing.T) {
		r := dig(t, ctx, bin, addr, "node2.radio.example.com", "AAAA")
		if r.status != "NOERROR" || !slices.Equal(addrs(r.answer), []string{"::1"}) {
			t.Errorf("status %s answer %v; want NOERROR [::1]", r.status, addrs(r.answer))
		}
	})
	t.Run("out of zone", func(t *testing.T) {
		r := dig(t, ctx, bin, addr, "www.example.org", "A")
		if r.status != "REFUSED" || r.has("aa") || len(r.answer) != 0 {
			t.Errorf("status %s flags %v answer %v; want REFUSED, not aa, empty", r.status, r.flags, r.answer)
		}
	})
	t.Run("unknown name", func(t *testing.T) {
		r := dig(t, ctx, bin, addr, "nope.radio.example.com", "A")
		if r.status != "NXDOMAIN" || !r.has("aa") || len(r.authority) != 1 || r.authority[0].Header().Rrtype != mdns.TypeSOA {
			t.Errorf("status %s authority %v; want NXDOMAIN with the SOA", r.status, r.authority)
		}
	})
	t.Run("SOA and NS", func(t *testing.T) {
		r := dig(t, ctx, bin, addr, "radio.example.com", "SOA")
		soa, ok := firstOf[*mdns.SOA](r.answer)
		if r.status != "NOERROR" || !ok || soa.Ns != "node1.radio.example.com." || soa.Mbox != "hostmaster.radio.example.com." {
			t.Errorf("SOA query: status %s answer %v", r.status, r.answer)
		}
		r = dig(t, ctx, bin, addr, "radio.example.com", "NS")
		var ns []string
		for _, rr := range r.answer {
			ns = append(ns, rr.(*mdns.NS).Ns)
		}
		if want := []string{"node1.radio.example.com.", "ns.example.net."}; !slices.Equal(ns, want) {
			t.Errorf("NS = %v, want %v", ns, want)
		}
	})
	t.Run("ANY is minimal", func(t *testing.T) {
		r := dig(t, ctx, bin, addr, "radio.example.com", "ANY")
		if _, ok := firstOf[*mdns.HINFO](r.answer); r.status != "NOERROR" || len(r.answer) != 1 || !ok {
			t.Errorf("status %s answer %v; want one HINFO", r.status, r.answer)
		}
	})
	t.Run("zone transfer refused", func(t *testing.T) {
		r := dig(t, ctx, bin, addr, "radio.example.com", "AXFR")
		if r.status != "REFUSED" {
			t.Errorf("AXFR status %s, want REFUSED", r.status)
		}
	})

	t.Run("answers follow the node set", func(t *testing.T) {
		bal.Update([]*autoradio.NodeStatus{status("node4", 0, "127.0.0.14"), status("node3", 30, "127.0.0.13")})
		r := dig(t, ctx, bin, addr, "stream.radio.example.com", "A")
		if want := []string{"127.0.0.13", "127.0.0.14"}; !slices.Equal(addrs(r.answer), want) {
			t.Errorf("after update: %v, want %v", addrs(r.answer), want)
		}
		if r := dig(t, ctx, bin, addr, "node1.radio.example.com", "A"); r.status != "NXDOMAIN" {
			t.Errorf("departed node1: status %s, want NXDOMAIN", r.status)
		}
	})

	t.Run("large answer truncated over UDP, whole over TCP", func(t *testing.T) {
		var many []*autoradio.NodeStatus
		for i := range 60 {
			many = append(many, status(fmt.Sprintf("n%02d", i), i, fmt.Sprintf("127.0.1.%d", i+1)))
		}
		bal.Update(many)
		r := dig(t, ctx, bin, addr, "radio.example.com", "A", "+bufsize=512", "+ignore")
		if !r.has("tc") || len(r.answer) >= 60 {
			t.Errorf("UDP bufsize 512: flags %v, %d records; want tc and fewer than 60", r.flags, len(r.answer))
		}
		r = dig(t, ctx, bin, addr, "radio.example.com", "A", "+tcp")
		if r.has("tc") || len(r.answer) != 60 {
			t.Errorf("TCP: flags %v, %d records; want all 60", r.flags, len(r.answer))
		}
	})
}

func firstOf[T mdns.RR](rrs []mdns.RR) (T, bool) {
	for _, rr := range rrs {
		if v, ok := rr.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func TestServerShutdown(t *testing.T) {
	h := testHandler(t, Config{Logger: quietLogger()}, threeNodes)
	srv := &Server{Addr: "127.0.0.1:0", Handler: h, Logger: quietLogger()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	// Wait until it answers over TCP, then stop it.
	c := &mdns.Client{Net: "tcp", Timeout: time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for {
		addr := srv.LocalAddr()
		if addr != "" {
			if m, _, err := c.Exchange(query("radio.example.com.", mdns.TypeA), addr); err == nil && len(m.Answer) == 3 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server never answered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	addr := srv.LocalAddr()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if _, _, err := c.Exchange(query("radio.example.com.", mdns.TypeA), addr); err == nil {
		t.Error("server still answers after shutdown")
	}
}

func TestServerErrors(t *testing.T) {
	if err := (&Server{Addr: "127.0.0.1:0"}).Run(context.Background()); err == nil {
		t.Error("Run without a handler succeeded")
	}
	if err := (&Server{Addr: "127.0.0.1", Handler: mdns.HandlerFunc(func(mdns.ResponseWriter, *mdns.Msg) {})}).Listen(); err == nil {
		t.Error("Listen on an address without a port succeeded")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := &Server{Addr: ln.Addr().String(), Handler: mdns.HandlerFunc(func(mdns.ResponseWriter, *mdns.Msg) {})}
	if err := busy.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "listen tcp") {
		t.Errorf("Run on a busy TCP port = %v, want a listen tcp error", err)
	}
	var opErr *net.OpError
	if err := busy.Run(context.Background()); !errors.As(err, &opErr) {
		t.Errorf("error %v does not wrap the net error", err)
	}
}

func TestServerSurvivesGarbage(t *testing.T) {
	h := testHandler(t, Config{Logger: quietLogger()}, threeNodes)
	addr := startServer(t, h)
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	good, _ := query("radio.example.com.", mdns.TypeA).Pack()
	for _, junk := range [][]byte{{1, 2, 3}, make([]byte, 40), good[:len(good)-3]} {
		if _, err := conn.Write(junk); err != nil {
			t.Fatal(err)
		}
	}
	// A truncated question gets FORMERR (or nothing); the server must
	// keep answering well-formed queries either way.
	c := &mdns.Client{Net: "udp", Timeout: 2 * time.Second}
	m, _, err := c.Exchange(query("radio.example.com.", mdns.TypeA), addr)
	if err != nil || len(m.Answer) != 3 {
		t.Fatalf("after garbage: %v, %v; want 3 answers", m, err)
	}
}

// TestServerUDPSockets sends queries from many client ports, which the
// kernel spreads over the server's sockets: every one is answered.
func TestServerUDPSockets(t *testing.T) {
	h := testHandler(t, Config{Logger: quietLogger()}, threeNodes)
	srv := &Server{Addr: "127.0.0.1:0", Handler: h, UDPSockets: 3, Logger: quietLogger()}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	if len(srv.pcs) != 3 {
		t.Fatalf("%d UDP sockets, want 3", len(srv.pcs))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	c := &mdns.Client{Net: "udp", Timeout: 5 * time.Second}
	for i := range 30 {
		q := query("radio.example.com.", mdns.TypeA)
		if i%2 == 1 {
			q = query("nope.radio.example.com.", mdns.TypeA)
		}
		r, _, err := c.Exchange(q, srv.LocalAddr())
		if err != nil || r.Id != q.Id || len(r.Question) != 1 {
			t.Fatalf("query %d: %v %v", i, r, err)
		}
	}
}
