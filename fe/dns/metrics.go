package dns

import (
	"fmt"
	"sync/atomic"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts answered queries. A nil *metrics counts nothing.
type metrics struct {
	queries *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{queries: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "autoradio",
		Subsystem: "dns",
		Name:      "queries_total",
		Help:      "DNS packets received, by query type (\"invalid\": refused before its question was read) and response code (\"none\": not answered).",
	}, []string{"qtype", "rcode"})}
	if err := reg.Register(m.queries); err != nil {
		return nil, fmt.Errorf("dns: register metrics: %w", err)
	}
	return m, nil
}

// knownQtypes bounds the qtype label: other types count as "other".
var knownQtypes = map[uint16]bool{
	mdns.TypeA: true, mdns.TypeAAAA: true, mdns.TypeNS: true, mdns.TypeSOA: true,
	mdns.TypeANY: true, mdns.TypeAXFR: true, mdns.TypeIXFR: true, mdns.TypeMX: true,
	mdns.TypeTXT: true, mdns.TypeCNAME: true, mdns.TypePTR: true, mdns.TypeSRV: true,
	mdns.TypeCAA: true, mdns.TypeHTTPS: true, mdns.TypeSVCB: true, mdns.TypeDS: true,
	mdns.TypeDNSKEY: true,
}

// observe counts the reply m.
func (m *metrics) observe(reply *mdns.Msg) {
	if m == nil {
		return
	}
	qtype := "other"
	if len(reply.Question) == 1 {
		qtype = qtypeLabel(reply.Question[0].Qtype)
	}
	m.queries.WithLabelValues(qtype, rcodeLabel(reply.Rcode)).Inc()
}

func qtypeLabel(qtype uint16) string {
	if knownQtypes[qtype] {
		return mdns.TypeToString[qtype]
	}
	return "other"
}

func rcodeLabel(rcode int) string {
	s, ok := mdns.RcodeToString[rcode]
	switch {
	case rcode == mdns.RcodeBadVers: // shares its value with BADSIG
		return "BADVERS"
	case !ok:
		return "other"
	}
	return s
}

// counters returns the counters of NOERROR and NXDOMAIN answers to qtype,
// which the fast path increments without looking labels up.
func (m *metrics) counters(qtype uint16) *[2]count {
	return &[2]count{{m: m, qtype: qtype, rcode: mdns.RcodeSuccess}, {m: m, qtype: qtype, rcode: mdns.RcodeNameError}}
}

// count is one counter of m, created when first incremented so that the
// series that never count are not exported.
type count struct {
	m     *metrics // nil: no metrics
	qtype uint16
	rcode int
	c     atomic.Pointer[prometheus.Counter]
}

func (c *count) inc() {
	if c.m == nil {
		return
	}
	p := c.c.Load()
	if p == nil {
		ctr := c.m.queries.WithLabelValues(qtypeLabel(c.qtype), rcodeLabel(c.rcode))
		p = &ctr
		c.c.Store(p)
	}
	(*p).Inc()
}

// invalid counts a packet refused before its question was read, answered
// with rcode, or "none".
func (m *metrics) invalid(rcode string) {
	if m == nil {
		return
	}
	m.queries.WithLabelValues("invalid", rcode).Inc()
}
