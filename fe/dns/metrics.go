package dns

import (
	"fmt"

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
	if len(reply.Question) == 1 && knownQtypes[reply.Question[0].Qtype] {
		qtype = mdns.TypeToString[reply.Question[0].Qtype]
	}
	rcode, ok := mdns.RcodeToString[reply.Rcode]
	switch {
	case reply.Rcode == mdns.RcodeBadVers: // shares its value with BADSIG
		rcode = "BADVERS"
	case !ok:
		rcode = "other"
	}
	m.queries.WithLabelValues(qtype, rcode).Inc()
}

// invalid counts a packet refused before its question was read, answered
// with rcode, or "none".
func (m *metrics) invalid(rcode string) {
	if m == nil {
		return
	}
	m.queries.WithLabelValues("invalid", rcode).Inc()
}
