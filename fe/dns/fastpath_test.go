package dns

import (
	"encoding/binary"
	"maps"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// fastCase is one query for the fast path; fast says whether the fast
// path must answer it (false: it must leave it to the general path).
type fastCase struct {
	name string
	msg  *mdns.Msg
	fast bool
}

func withEDNS(m *mdns.Msg, size uint16, do bool, opts ...mdns.EDNS0) *mdns.Msg {
	m.SetEdns0(size, do)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, opts...)
	return m
}

func fastCases() []fastCase {
	q := query
	noRD := q("radio.example.com.", mdns.TypeA)
	noRD.RecursionDesired = false
	cd := q("radio.example.com.", mdns.TypeA)
	cd.CheckingDisabled = true
	cookie := &mdns.EDNS0_COOKIE{Code: mdns.EDNS0COOKIE, Cookie: "0102030405060708"}
	subnet := &mdns.EDNS0_SUBNET{Code: mdns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: []byte{192, 0, 2, 0}}
	badVersion := withEDNS(q("radio.example.com.", mdns.TypeA), 1232, false)
	badVersion.IsEdns0().SetVersion(1)
	twoQuestions := q("radio.example.com.", mdns.TypeA)
	twoQuestions.Question = append(twoQuestions.Question, twoQuestions.Question[0])
	chaos := q("radio.example.com.", mdns.TypeA)
	chaos.Question[0].Qclass = mdns.ClassCHAOS
	notify := q("radio.example.com.", mdns.TypeSOA)
	notify.Opcode = mdns.OpcodeNotify
	return []fastCase{
		{"apex A", q("radio.example.com.", mdns.TypeA), true},
		{"apex A, mixed case", q("RaDiO.Example.COM.", mdns.TypeA), true},
		{"apex AAAA", q("radio.example.com.", mdns.TypeAAAA), true},
		{"stream A", q("stream.radio.example.com.", mdns.TypeA), true},
		{"stream AAAA, mixed case", q("STREAM.radio.example.com.", mdns.TypeAAAA), true},
		{"node A", q("node3.radio.example.com.", mdns.TypeA), true},
		{"node AAAA", q("node3.radio.example.com.", mdns.TypeAAAA), true},
		{"node without AAAA", q("node2.radio.example.com.", mdns.TypeAAAA), true},
		{"SOA", q("radio.example.com.", mdns.TypeSOA), true},
		{"NS", q("radio.example.com.", mdns.TypeNS), true},
		{"NS, mixed case", q("Radio.Example.Com.", mdns.TypeNS), true},
		{"SOA of a node: NODATA", q("node1.radio.example.com.", mdns.TypeSOA), true},
		{"ANY", q("radio.example.com.", mdns.TypeANY), true},
		{"ANY, mixed case", q("NODE1.radio.example.com.", mdns.TypeANY), true},
		{"TXT: NODATA", q("radio.example.com.", mdns.TypeTXT), true},
		{"MX: NODATA", q("stream.radio.example.com.", mdns.TypeMX), true},
		{"HTTPS: NODATA", q("radio.example.com.", mdns.TypeHTTPS), true},
		{"NXDOMAIN", q("nope.radio.example.com.", mdns.TypeA), true},
		{"NXDOMAIN, long", q("a-much-longer-name.with.labels.radio.example.com.", mdns.TypeAAAA), true},
		{"NXDOMAIN, short, mixed case", q("X.Radio.example.com.", mdns.TypeSOA), true},
		{"NXDOMAIN, under a node", q("www.node1.radio.example.com.", mdns.TypeA), true},
		{"NXDOMAIN, TXT", q("other.radio.example.com.", mdns.TypeTXT), true},
		{"EDNS", withEDNS(q("radio.example.com.", mdns.TypeA), 4096, false), true},
		{"EDNS DO", withEDNS(q("stream.radio.example.com.", mdns.TypeAAAA), 1232, true), true},
		{"EDNS small buffer", withEDNS(q("radio.example.com.", mdns.TypeNS), 100, false), true},
		{"EDNS cookie", withEDNS(q("radio.example.com.", mdns.TypeA), 1232, false, cookie), true},
		{"EDNS NXDOMAIN", withEDNS(q("nope.radio.example.com.", mdns.TypeA), 1232, true), true},
		{"no RD", noRD, true},
		{"CD", cd, true},
		{"underscore name: general path", q("_acme-challenge.radio.example.com.", mdns.TypeTXT), false},
		{"underscore under a node: general path", q("_acme-challenge.node1.radio.example.com.", mdns.TypeTXT), false},
		{"unknown type: general path", q("radio.example.com.", 65280), false},
		{"NULL: general path", q("radio.example.com.", mdns.TypeNULL), false},
		{"AXFR: general path", q("radio.example.com.", mdns.TypeAXFR), false},
		{"outside the zone: general path", q("example.org.", mdns.TypeA), false},
		{"suffix not at a label: general path", q("xradio.example.com.", mdns.TypeA), false},
		{"EDNS client subnet: general path", withEDNS(q("radio.example.com.", mdns.TypeA), 1232, false, subnet), false},
		{"EDNS version 1: general path", badVersion, false},
		{"two questions: general path", twoQuestions, false},
		{"CHAOS: general path", chaos, false},
		{"NOTIFY: general path", notify, false},
	}
}

// TestFastPathMatchesGeneral compares, for a table of queries, the reply
// from the precomputed answers with the general path's through miekg/dns.
func TestFastPathMatchesGeneral(t *testing.T) {
	for _, zone := range []fixedZone{threeNodes, manyNodes(40)} {
		h := testHandler(t, Config{Logger: quietLogger()}, zone)
		for _, tc := range fastCases() {
			t.Run(tc.name, func(t *testing.T) {
				wire := pack(t, tc.msg)
				fast := make([]byte, DefaultMaxUDPSize)
				n := h.serveFast(wire, fast)
				if want := tc.fast && !truncated(h, wire); (n > 0) != want {
					t.Fatalf("fast path answered: %v, want %v", n > 0, tc.fast)
				}
				if n > 0 {
					compareReplies(t, wire, fast[:n], h)
				}
			})
		}
	}
}

// truncated reports whether the general path's reply to wire has TC set:
// the fast path leaves those to it.
func truncated(h *Handler, wire []byte) bool {
	out := make([]byte, DefaultMaxUDPSize)
	n := h.serveGeneral(wire, out)
	return n > 2 && out[2]&0x02 != 0
}

// compareReplies checks that the fast path's reply to wire is the general
// path's: the same message, names compared without regard to case (the
// fast path compresses names into the question as the client spelt it,
// miekg/dns only into names spelt the same), and the question as asked.
func compareReplies(t *testing.T, wire, fast []byte, h *Handler) {
	t.Helper()
	general := make([]byte, DefaultMaxUDPSize)
	g := h.serveGeneral(wire, general)
	if g == 0 {
		t.Fatal("the general path did not answer")
	}
	fm, gm := new(mdns.Msg), new(mdns.Msg)
	if err := fm.Unpack(fast); err != nil {
		t.Fatalf("fast reply does not unpack: %v", err)
	}
	if err := gm.Unpack(general[:g]); err != nil {
		t.Fatalf("general reply does not unpack: %v", err)
	}
	if f, g := strings.ToLower(fm.String()), strings.ToLower(gm.String()); f != g {
		t.Errorf("fast path reply:\n%s\ngeneral path reply:\n%s", fm, gm)
	}
	req := new(mdns.Msg)
	if err := req.Unpack(wire); err == nil && len(fm.Question) == 1 && fm.Question[0] != req.Question[0] {
		t.Errorf("question %v, asked %v", fm.Question[0], req.Question[0])
	}
}

// FuzzFastPath compares the two paths on any packet the fast path
// answers.
func FuzzFastPath(f *testing.F) {
	for _, tc := range fastCases() {
		wire, err := tc.msg.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(wire)
	}
	h := testHandler(f, Config{Logger: quietLogger()}, threeNodes)
	f.Fuzz(func(t *testing.T, wire []byte) {
		fast := make([]byte, DefaultMaxUDPSize)
		if n := h.serveFast(wire, fast); n > 0 {
			compareReplies(t, wire, fast[:n], h)
		}
	})
}

// TestFastPathFollowsTheZone checks that a new version of the zone is
// answered at once, and that the balanced names turn through the
// load-balancer orders.
func TestFastPathFollowsTheZone(t *testing.T) {
	z := &changingZone{fixedZone: threeNodes}
	h := testHandler(t, Config{Logger: quietLogger()}, z)
	out := make([]byte, DefaultMaxUDPSize)
	answerOf := func(name string) string {
		n := h.ServeUDP(pack(t, query(name, mdns.TypeA)), out)
		m := new(mdns.Msg)
		if err := m.Unpack(out[:n]); err != nil {
			t.Fatal(err)
		}
		return strings.Join(strs(m.Answer), "; ") + mdns.RcodeToString[m.Rcode]
	}
	before := answerOf("node4.radio.example.com.")
	z.fixedZone = append(threeNodes[:3:3], node("node4", "127.0.0.14"))
	z.version++
	if after := answerOf("node4.radio.example.com."); before == after || !strings.Contains(after, "127.0.0.14") {
		t.Errorf("node4 before %q and after it joined %q", before, after)
	}
	seen := map[string]bool{}
	for range 2 * permutations {
		seen[answerOf("radio.example.com.")] = true
	}
	if len(seen) < 2 {
		t.Errorf("the apex answers did not turn: %v", seen)
	}
}

// changingZone rotates its nodes on every Nodes call, like a load
// balancer would reorder them, and has a version the test bumps.
type changingZone struct {
	fixedZone
	version uint64
	calls   int
}

func (z *changingZone) Version() uint64 { return z.version }

func (z *changingZone) Nodes() []NodeAddr {
	z.calls++
	n := len(z.fixedZone)
	out := make([]NodeAddr, n)
	for i := range out {
		out[i] = z.fixedZone[(i+z.calls)%n]
	}
	return out
}

func TestRelocateRejectsGarbage(t *testing.T) {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b, 0xc00c)
	if relocate(b, 1, 12, 3) {
		t.Error("relocate accepted a record that does not end where the message does")
	}
}

// TestFastPathMetrics checks that the fast path counts its answers as the
// general path does.
func TestFastPathMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	h, err := NewHandler(Config{Domain: "radio.example.com", Logger: quietLogger()}, threeNodes, reg)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, DefaultMaxUDPSize)
	for _, q := range []*mdns.Msg{query("radio.example.com.", mdns.TypeA), query("RADIO.example.com.", mdns.TypeA),
		query("nope.radio.example.com.", mdns.TypeAAAA), query("radio.example.com.", mdns.TypeTXT)} {
		if h.serveFast(pack(t, q), out) == 0 {
			t.Fatalf("%v: not on the fast path", q.Question[0])
		}
	}
	want := map[string]float64{
		"autoradio_dns_queries_total qtype=A rcode=NOERROR":     2,
		"autoradio_dns_queries_total qtype=AAAA rcode=NXDOMAIN": 1,
		"autoradio_dns_queries_total qtype=TXT rcode=NOERROR":   1,
	}
	if got, _ := counterValues(t, reg); !maps.Equal(got, want) {
		t.Errorf("metrics = %v, want %v", got, want)
	}
}
