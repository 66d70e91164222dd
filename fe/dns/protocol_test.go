package dns

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
)

// manyNodes returns n nodes with one IPv4 address each.
func manyNodes(n int) fixedZone {
	z := make(fixedZone, n)
	for i := range z {
		z[i] = node(fmt.Sprintf("n%03d", i), fmt.Sprintf("127.0.1.%d", i+1))
	}
	return z
}

func TestHeaderErrors(t *testing.T) {
	h := testHandler(t, Config{}, threeNodes)

	notify := query("radio.example.com.", mdns.TypeSOA)
	notify.Opcode = mdns.OpcodeNotify
	update := query("radio.example.com.", mdns.TypeSOA)
	update.Opcode = mdns.OpcodeUpdate
	twoQ := query("radio.example.com.", mdns.TypeA)
	twoQ.Question = append(twoQ.Question, twoQ.Question[0])
	noQ := query("radio.example.com.", mdns.TypeA)
	noQ.Question = nil
	twoOPT := query("radio.example.com.", mdns.TypeA).SetEdns0(1232, false)
	twoOPT.Extra = append(twoOPT.Extra, twoOPT.Extra[0])
	badVers := query("radio.example.com.", mdns.TypeA).SetEdns0(1232, false)
	badVers.IsEdns0().SetVersion(1)
	chaos := query("version.bind.", mdns.TypeTXT)
	chaos.Question[0].Qclass = mdns.ClassCHAOS

	tests := []struct {
		name  string
		req   *mdns.Msg
		rcode int
	}{
		{"notify", notify, mdns.RcodeNotImplemented},
		{"update", update, mdns.RcodeNotImplemented},
		{"two questions", twoQ, mdns.RcodeFormatError},
		{"no question", noQ, mdns.RcodeFormatError},
		{"two OPT records", twoOPT, mdns.RcodeFormatError},
		{"EDNS version 1", badVers, mdns.RcodeBadVers},
		{"chaos class", chaos, mdns.RcodeRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := h.Reply(tt.req, true)
			if m.Rcode != tt.rcode || len(m.Answer) != 0 || m.Authoritative {
				t.Errorf("rcode %s, %d answers, aa=%v; want %s, none, aa=false",
					mdns.RcodeToString[m.Rcode], len(m.Answer), m.Authoritative, mdns.RcodeToString[tt.rcode])
			}
			if _, err := m.Pack(); err != nil {
				t.Errorf("reply does not pack: %v", err)
			}
		})
	}

	resp := query("radio.example.com.", mdns.TypeA)
	resp.Response = true
	if m := h.Reply(resp, true); m != nil {
		t.Errorf("a response got a reply: %v", m)
	}
}

func TestEDNS(t *testing.T) {
	h := testHandler(t, Config{}, threeNodes)
	m := h.Reply(query("radio.example.com.", mdns.TypeA).SetEdns0(4096, true), true)
	opt := m.IsEdns0()
	if opt == nil || opt.UDPSize() != DefaultMaxUDPSize || !opt.Do() || opt.Version() != 0 {
		t.Fatalf("reply OPT = %v; want one with size %d, DO copied, version 0", opt, DefaultMaxUDPSize)
	}
	if m := h.Reply(query("radio.example.com.", mdns.TypeA), true); m.IsEdns0() != nil {
		t.Errorf("reply to a query without EDNS0 has an OPT record")
	}
}

func TestTruncation(t *testing.T) {
	h := testHandler(t, Config{MaxRecords: 100}, manyNodes(100))
	tests := []struct {
		name     string
		req      *mdns.Msg
		udp      bool
		maxBytes int
		tc       bool
	}{
		{"udp without EDNS0", query("radio.example.com.", mdns.TypeA), true, 512, true},
		{"udp EDNS0 512", query("radio.example.com.", mdns.TypeA).SetEdns0(512, false), true, 512, true},
		{"udp EDNS0 4096 capped", query("radio.example.com.", mdns.TypeA).SetEdns0(4096, false), true, DefaultMaxUDPSize, true},
		{"udp EDNS0 below 512", query("radio.example.com.", mdns.TypeA).SetEdns0(100, false), true, 512, true},
		{"tcp", query("radio.example.com.", mdns.TypeA), false, 65535, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := h.Reply(tt.req, tt.udp)
			wire, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			if len(wire) > tt.maxBytes || m.Truncated != tt.tc {
				t.Errorf("%d bytes, TC=%v, %d answers; want <= %d bytes, TC=%v", len(wire), m.Truncated, len(m.Answer), tt.maxBytes, tt.tc)
			}
			if tt.tc && (len(m.Answer) == 0 || len(m.Answer) == 100) {
				t.Errorf("truncated answer has %d records, want some but not all", len(m.Answer))
			}
			if !tt.tc && len(m.Answer) != 100 {
				t.Errorf("%d answers, want all 100", len(m.Answer))
			}
			if (tt.req.IsEdns0() != nil) != (m.IsEdns0() != nil) {
				t.Errorf("OPT record lost or invented by truncation")
			}
		})
	}
	// Five records fit in 512 bytes: no truncation.
	small := testHandler(t, Config{}, manyNodes(100))
	if m := small.Reply(query("radio.example.com.", mdns.TypeA), true); m.Truncated || len(m.Answer) != DefaultMaxRecords {
		t.Errorf("default: TC=%v with %d answers; want no TC and %d answers", m.Truncated, len(m.Answer), DefaultMaxRecords)
	}
}

func TestNameserversDefaultToNodes(t *testing.T) {
	h := testHandler(t, Config{}, fixedZone{node("b", "127.0.0.2"), node("a", "127.0.0.1")})
	m := h.Reply(query("radio.example.com.", mdns.TypeNS), false)
	var got []string
	for _, rr := range m.Answer {
		got = append(got, rr.(*mdns.NS).Ns)
	}
	if want := []string{"a.radio.example.com.", "b.radio.example.com."}; !slices.Equal(got, want) {
		t.Errorf("NS = %v, want %v", got, want)
	}
	if len(m.Extra) != 2 {
		t.Errorf("glue = %v, want the A records of a and b", m.Extra)
	}
	soa := h.Reply(query("radio.example.com.", mdns.TypeSOA), false).Answer[0].(*mdns.SOA)
	if soa.Ns != "a.radio.example.com." || soa.Hdr.Ttl != 5 {
		t.Errorf("SOA mname %s ttl %d, want a.radio.example.com. and the short TTL", soa.Ns, soa.Hdr.Ttl)
	}
	empty := testHandler(t, Config{}, fixedZone{})
	if m := empty.Reply(query("radio.example.com.", mdns.TypeA), false); m.Rcode != mdns.RcodeSuccess || len(m.Answer) != 0 || len(m.Ns) != 1 {
		t.Errorf("no healthy node: %v; want NOERROR, no answer, SOA", m)
	}
}

func TestConfig(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want string // error substring, "" for success
	}{
		{Config{Domain: ""}, "bad domain"},
		{Config{Domain: "bad domain.com"}, "bad domain"},
		{Config{Domain: "Radio.Example.COM."}, ""},
		{Config{Domain: "radio.example.com", Nameservers: []string{"ns1", "ns2.example.net.", " "}}, ""},
		{Config{Domain: "radio.example.com", Nameservers: []string{"bad name"}}, "bad nameserver"},
	} {
		_, err := NewHandler(tt.cfg, fixedZone{}, nil)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("NewHandler(%+v) error = %v, want %q", tt.cfg, err, tt.want)
		}
	}
	if _, err := NewHandler(Config{Domain: "radio.example.com"}, nil, nil); err == nil {
		t.Error("NewHandler without a zone succeeded")
	}
	cfg, _ := Config{Domain: "Radio.Example.COM", Nameservers: []string{"ns1", "NS2.example.net"}}.normalize()
	if cfg.Domain != "radio.example.com." || !slices.Equal(cfg.Nameservers, []string{"ns1.radio.example.com.", "ns2.example.net."}) {
		t.Errorf("normalized domain %q, nameservers %v", cfg.Domain, cfg.Nameservers)
	}
}

// counterValues gathers reg's counters by name and labels.
func counterValues(t *testing.T, reg prometheus.Gatherer) (map[string]float64, []*dto.MetricFamily) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			got[key] = m.GetCounter().GetValue()
		}
	}
	return got, mfs
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	h, err := NewHandler(Config{Domain: "radio.example.com"}, threeNodes, reg)
	if err != nil {
		t.Fatal(err)
	}
	w := &recorder{}
	h.ServeDNS(w, query("radio.example.com.", mdns.TypeA))
	h.ServeDNS(w, query("nope.radio.example.com.", mdns.TypeA))
	h.ServeDNS(w, query("radio.example.com.", mdns.TypeNULL))
	h.ServeDNS(w, query("example.org.", mdns.TypeA))
	if len(w.msgs) != 4 {
		t.Fatalf("%d replies written, want 4", len(w.msgs))
	}
	got, mfs := counterValues(t, reg)
	want := map[string]float64{
		"autoradio_dns_queries_total qtype=A rcode=NOERROR":     1,
		"autoradio_dns_queries_total qtype=A rcode=NXDOMAIN":    1,
		"autoradio_dns_queries_total qtype=A rcode=REFUSED":     1,
		"autoradio_dns_queries_total qtype=other rcode=NOERROR": 1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("metrics = %v, want %v", got, want)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil || len(problems) != 0 {
		t.Errorf("metric lint: %v %v", problems, err)
	}
	if _, err := NewHandler(Config{Domain: "radio.example.com"}, threeNodes, reg); err == nil {
		t.Error("registering the metrics twice succeeded")
	}
}
