package dns

import (
	"strings"

	mdns "github.com/miekg/dns"
)

// kind says what a name in the zone is.
type kind int

const (
	noName   kind = iota // not in the zone: NXDOMAIN
	apex                 // Z
	balanced             // stream.Z
	nodeName             // <node>.Z
)

// streamLabel names the balanced alias; it shadows a node of that name.
const streamLabel = "stream"

// answer fills m for question q.
func (h *Handler) answer(m *mdns.Msg, q mdns.Question) {
	name := strings.ToLower(q.Name)
	if q.Qclass != mdns.ClassINET || !mdns.IsSubDomain(h.cfg.Domain, name) {
		m.Rcode = mdns.RcodeRefused
		return
	}
	if q.Qtype == mdns.TypeAXFR || q.Qtype == mdns.TypeIXFR {
		m.Rcode = mdns.RcodeRefused
		return
	}
	m.Authoritative = true
	if h.challenge(m, q, name) {
		return
	}
	k, node := h.lookup(name)
	if k == noName {
		m.Rcode = mdns.RcodeNameError
		m.Ns = []mdns.RR{h.soa(h.cfg.NegativeTTL)}
		return
	}
	m.Answer = h.records(k, node, q)
	if len(m.Answer) == 0 {
		m.Ns = []mdns.RR{h.soa(h.cfg.NegativeTTL)}
	}
	if q.Qtype == mdns.TypeNS {
		m.Extra = h.glue(m.Answer)
	}
}

// lookup classifies a lower-case name inside the zone.
func (h *Handler) lookup(name string) (kind, NodeAddr) {
	if name == h.cfg.Domain {
		return apex, NodeAddr{}
	}
	rel := name[:len(name)-len(h.cfg.Domain)-1]
	if rel == streamLabel {
		return balanced, NodeAddr{}
	}
	if n, ok := h.zone.Node(rel); ok {
		return nodeName, n
	}
	return noName, NodeAddr{}
}

// records returns the answer records of type q.Qtype for a name of kind k.
func (h *Handler) records(k kind, node NodeAddr, q mdns.Question) []mdns.RR {
	switch {
	case q.Qtype == mdns.TypeANY:
		// RFC 8482: answer ANY with one small synthesized record rather
		// than everything, so the server is no amplifier.
		return []mdns.RR{hinfo(q.Name, h.cfg.TTL)}
	case q.Qtype != mdns.TypeA && q.Qtype != mdns.TypeAAAA:
		return h.apexRecords(k, q.Qtype)
	case k == nodeName:
		return appendAddrs(nil, q.Name, q.Qtype, h.cfg.TTL, node.Addrs, len(node.Addrs))
	default:
		return h.balancedRecords(q)
	}
}

// apexRecords returns the SOA or NS records, which exist only at the apex.
func (h *Handler) apexRecords(k kind, qtype uint16) []mdns.RR {
	if k != apex {
		return nil
	}
	switch qtype {
	case mdns.TypeSOA:
		return []mdns.RR{h.soa(h.nsTTL())}
	case mdns.TypeNS:
		return h.nsRecords()
	}
	return nil
}

// balancedRecords answers Z and stream.Z: one address of the queried
// family from each of the first MaxRecords healthy nodes that have one.
func (h *Handler) balancedRecords(q mdns.Question) []mdns.RR {
	nodes := h.zone.Nodes()
	rrs := make([]mdns.RR, 0, min(len(nodes), h.cfg.MaxRecords))
	for _, n := range nodes {
		if len(rrs) == h.cfg.MaxRecords {
			break
		}
		rrs = appendAddrs(rrs, q.Name, q.Qtype, h.cfg.TTL, n.Addrs, 1)
	}
	return rrs
}

// glue returns the addresses of the in-zone nameservers among ns, which
// resolvers need to reach a zone delegated to names inside itself.
func (h *Handler) glue(ns []mdns.RR) []mdns.RR {
	var extra []mdns.RR
	for _, rr := range ns {
		target := rr.(*mdns.NS).Ns
		if target == h.cfg.Domain || !mdns.IsSubDomain(h.cfg.Domain, target) {
			continue
		}
		k, n := h.lookup(target)
		if k != nodeName {
			continue
		}
		ttl := h.nsTTL()
		extra = appendAddrs(extra, target, mdns.TypeA, ttl, n.Addrs, len(n.Addrs))
		extra = appendAddrs(extra, target, mdns.TypeAAAA, ttl, n.Addrs, len(n.Addrs))
	}
	return extra
}
