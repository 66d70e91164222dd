package dns

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// fixedZone is a Zone with a fixed node list, in the order given.
type fixedZone []NodeAddr

func (z fixedZone) Nodes() []NodeAddr { return z }

func (z fixedZone) Node(name string) (NodeAddr, bool) {
	for _, n := range z {
		if n.Name == name {
			return n, true
		}
	}
	return NodeAddr{}, false
}

// A fixedZone never changes: it is a ViewZone of one version, so the
// server answers it from precomputed answers too.
func (z fixedZone) Version() uint64 { return 1 }

func (z fixedZone) Names() []string {
	names := make([]string, len(z))
	for i, n := range z {
		names[i] = n.Name
	}
	return names
}

func node(name string, addrs ...string) NodeAddr {
	n := NodeAddr{Name: name}
	for _, a := range addrs {
		n.Addrs = append(n.Addrs, netip.MustParseAddr(a))
	}
	return n
}

var testNow = time.Unix(1700000000, 0)

const testSOA = "radio.example.com. 5 IN SOA node1.radio.example.com. hostmaster.radio.example.com. 1700000000 3600 600 86400 5"

func testHandler(t testing.TB, cfg Config, zone Zone) *Handler {
	t.Helper()
	if cfg.Domain == "" {
		cfg.Domain = "radio.example.com"
	}
	cfg.Now = func() time.Time { return testNow }
	h, err := NewHandler(cfg, zone, nil)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return h
}

var threeNodes = fixedZone{
	node("node1", "127.0.0.11", "2001:db8::11"),
	node("node2", "127.0.0.12", "127.0.0.22"),
	node("node3", "127.0.0.13", "2001:db8::13", "2001:db8::23"),
}

func query(name string, qtype uint16) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

// canon re-parses zone-file lines so that they compare with RR.String().
func canon(t *testing.T, lines []string) []string {
	t.Helper()
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		rr, err := mdns.NewRR(l)
		if err != nil {
			t.Fatalf("bad expected record %q: %v", l, err)
		}
		out = append(out, rr.String())
	}
	return out
}

func strs(rrs []mdns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		if rr.Header().Rrtype != mdns.TypeOPT {
			out = append(out, rr.String())
		}
	}
	return out
}

func TestAnswers(t *testing.T) {
	tests := []struct {
		qname     string
		qtype     uint16
		rcode     int
		aa        bool
		answer    []string
		authority []string
		extra     []string
	}{
		{qname: "radio.example.com.", qtype: mdns.TypeA, rcode: mdns.RcodeSuccess, aa: true,
			answer: []string{"radio.example.com. 5 IN A 127.0.0.11", "radio.example.com. 5 IN A 127.0.0.12"}},
		{qname: "stream.radio.example.com.", qtype: mdns.TypeA, rcode: mdns.RcodeSuccess, aa: true,
			answer: []string{"stream.radio.example.com. 5 IN A 127.0.0.11", "stream.radio.example.com. 5 IN A 127.0.0.12"}},
		{qname: "radio.example.com.", qtype: mdns.TypeAAAA, rcode: mdns.RcodeSuccess, aa: true,
			answer: []string{"radio.example.com. 5 IN AAAA 2001:db8::11", "radio.example.com. 5 IN AAAA 2001:db8::13"}},
		{qname: "RaDiO.ExAmPle.COM.", qtype: mdns.TypeA, rcode: mdns.RcodeSuccess, aa: true,
			answer: []string{"RaDiO.ExAmPle.COM. 5 IN A 127.0.0.11", "RaDiO.ExAmPle.COM. 5 IN A 127.0.0.12"}},
		{qname: "node2.radio.example.com.", qtype: mdns.TypeA, rcode: mdns.RcodeSuccess, aa: true,
			answer: []string{"node2.radio.example.com. 5 IN A 127.0.0.12", "node2.radio.example.com. 5 IN A 127.0.0.22"}},
		{qname: "NODE3.radio.example.com.", qtype: mdns.TypeAAAA, rcode: mdns.RcodeSuccess, aa: true,
			answer: []string{"NODE3.radio.example.com. 5 IN AAAA 2001:db8::13", "NODE3.radio.example.com. 5 IN AAAA 2001:db8::23"}},
		{qname: "node2.radio.example.com.", qtype: mdns.TypeAAAA, rcode: mdns.RcodeSuccess, aa: true,
			authority: []string{testSOA}},
		{qname: "node1.radio.example.com.", qtype: mdns.TypeMX, rcode: mdns.RcodeSuccess, aa: true,
			authority: []string{testSOA}},
		{qname: "radio.example.com.", qtype: mdns.TypeTXT, rcode: mdns.RcodeSuccess, aa: true,
			authority: []string{testSOA}},
		{qname: "stream.radio.example.com.", qtype: mdns.TypeSOA, rcode: mdns.RcodeSuccess, aa: true,
			authority: []string{testSOA}},
		{qname: "nope.radio.example.com.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError, aa: true,
			authority: []string{testSOA}},
		{qname: "www.node1.radio.example.com.", qtype: mdns.TypeA, rcode: mdns.RcodeNameError, aa: true,
			authority: []string{testSOA}},
		{qname: "nope.radio.example.com.", qtype: mdns.TypeANY, rcode: mdns.RcodeNameError, aa: true,
			authority: []string{testSOA}},
		{qname: "radio.example.com.", qtype: mdns.TypeSOA, rcode: mdns.RcodeSuccess, aa: true,
			answer: []string{strings.Replace(testSOA, " 5 IN", " 3600 IN", 1)}},
		{qname: "radio.example.com.", qtype: mdns.TypeNS, rcode: mdns.RcodeSuccess, aa: true,
			answer: []string{"radio.example.com. 3600 IN NS node1.radio.example.com.", "radio.example.com. 3600 IN NS ns.example.net."},
			extra:  []string{"node1.radio.example.com. 3600 IN A 127.0.0.11", "node1.radio.example.com. 3600 IN AAAA 2001:db8::11"}},
		{qname: "radio.example.com.", qtype: mdns.TypeANY, rcode: mdns.RcodeSuccess, aa: true,
			answer: []string{`radio.example.com. 5 IN HINFO "RFC8482" ""`}},
		{qname: "node3.radio.example.com.", qtype: mdns.TypeANY, rcode: mdns.RcodeSuccess, aa: true,
			answer: []string{`node3.radio.example.com. 5 IN HINFO "RFC8482" ""`}},
		{qname: "radio.example.com.", qtype: mdns.TypeAXFR, rcode: mdns.RcodeRefused},
		{qname: "radio.example.com.", qtype: mdns.TypeIXFR, rcode: mdns.RcodeRefused},
		{qname: "example.com.", qtype: mdns.TypeA, rcode: mdns.RcodeRefused},
		{qname: "xradio.example.com.", qtype: mdns.TypeA, rcode: mdns.RcodeRefused},
		{qname: "www.google.com.", qtype: mdns.TypeA, rcode: mdns.RcodeRefused},
		{qname: ".", qtype: mdns.TypeNS, rcode: mdns.RcodeRefused},
	}
	h := testHandler(t, Config{MaxRecords: 2, Nameservers: []string{"node1", "ns.example.net"}}, threeNodes)
	for _, tt := range tests {
		t.Run(tt.qname+"/"+mdns.TypeToString[tt.qtype], func(t *testing.T) {
			req := query(tt.qname, tt.qtype)
			m := h.Reply(req, true)
			if m.Rcode != tt.rcode {
				t.Errorf("rcode = %s, want %s", mdns.RcodeToString[m.Rcode], mdns.RcodeToString[tt.rcode])
			}
			if m.Authoritative != tt.aa || m.RecursionAvailable || !m.RecursionDesired || !m.Response || m.Id != req.Id {
				t.Errorf("header aa=%v ra=%v rd=%v qr=%v id ok=%v; want aa=%v ra=false rd=true qr=true same id",
					m.Authoritative, m.RecursionAvailable, m.RecursionDesired, m.Response, m.Id == req.Id, tt.aa)
			}
			if len(m.Question) != 1 || m.Question[0].Name != tt.qname {
				t.Errorf("question = %v, want %s as asked", m.Question, tt.qname)
			}
			for _, sec := range []struct {
				name      string
				got, want []string
			}{{"answer", strs(m.Answer), tt.answer}, {"authority", strs(m.Ns), tt.authority}, {"additional", strs(m.Extra), tt.extra}} {
				if want := canon(t, sec.want); !slices.Equal(sec.got, want) {
					t.Errorf("%s =\n\t%s\nwant\n\t%s", sec.name, strings.Join(sec.got, "\n\t"), strings.Join(want, "\n\t"))
				}
			}
		})
	}
}
