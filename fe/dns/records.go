package dns

import (
	"net/netip"
	"slices"
	"time"

	mdns "github.com/miekg/dns"
)

// SOA timers. No secondary ever transfers the zone (AXFR is refused), so
// refresh, retry and expire only need to be plausible.
const (
	soaRefresh = 3600
	soaRetry   = 600
	soaExpire  = 86400
)

func header(owner string, rrtype uint16, ttl time.Duration) mdns.RR_Header {
	return mdns.RR_Header{Name: owner, Rrtype: rrtype, Class: mdns.ClassINET, Ttl: seconds(ttl)}
}

// appendAddrs appends to rrs A (qtype A) or AAAA records for up to limit
// of addrs in that family.
func appendAddrs(rrs []mdns.RR, owner string, qtype uint16, ttl time.Duration, addrs []netip.Addr, limit int) []mdns.RR {
	added := 0
	for _, a := range addrs {
		if added == limit {
			break
		}
		if rr := addrRecord(owner, qtype, ttl, a); rr != nil {
			rrs = append(rrs, rr)
			added++
		}
	}
	return rrs
}

// addrRecord returns the A or AAAA record (per qtype) for a, or nil when a
// is of the other family.
func addrRecord(owner string, qtype uint16, ttl time.Duration, a netip.Addr) mdns.RR {
	switch {
	case qtype == mdns.TypeA && a.Is4():
		return &mdns.A{Hdr: header(owner, qtype, ttl), A: a.AsSlice()}
	case qtype == mdns.TypeAAAA && a.Is6() && !a.Is4In6():
		return &mdns.AAAA{Hdr: header(owner, qtype, ttl), AAAA: a.AsSlice()}
	}
	return nil
}

// soa returns the zone's SOA with the given TTL. The zone is computed
// afresh for every query, so the serial is the current Unix time: it only
// grows, and it changes whenever the node set can have changed.
func (h *Handler) soa(ttl time.Duration) mdns.RR {
	d := h.cfg.Domain
	return &mdns.SOA{
		Hdr:     header(d, mdns.TypeSOA, ttl),
		Ns:      h.mname(),
		Mbox:    "hostmaster." + d,
		Serial:  uint32(h.cfg.Now().Unix()),
		Refresh: soaRefresh,
		Retry:   soaRetry,
		Expire:  soaExpire,
		Minttl:  seconds(h.cfg.NegativeTTL),
	}
}

// mname is the SOA's primary nameserver: the first nameserver, or the
// zone itself when there is none.
func (h *Handler) mname() string {
	if ns := h.nsNames(); len(ns) > 0 {
		return ns[0]
	}
	return h.cfg.Domain
}

// nsNames returns the configured nameservers, or else <node>.Z for every
// healthy node, sorted so that the NS set is stable across queries.
func (h *Handler) nsNames() []string {
	if len(h.cfg.Nameservers) > 0 {
		return h.cfg.Nameservers
	}
	nodes := h.zone.Nodes()
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name + "." + h.cfg.Domain
	}
	slices.Sort(names)
	return names
}

// nsTTL is the TTL of NS records and of a directly queried SOA: long when
// the nameservers are configured, short when they follow the nodes.
func (h *Handler) nsTTL() time.Duration {
	if len(h.cfg.Nameservers) > 0 {
		return h.cfg.NSTTL
	}
	return h.cfg.TTL
}

func (h *Handler) nsRecords() []mdns.RR {
	names := h.nsNames()
	rrs := make([]mdns.RR, len(names))
	for i, n := range names {
		rrs[i] = &mdns.NS{Hdr: header(h.cfg.Domain, mdns.TypeNS, h.nsTTL()), Ns: n}
	}
	return rrs
}

// hinfo is the RFC 8482 answer to ANY queries.
func hinfo(owner string, ttl time.Duration) mdns.RR {
	return &mdns.HINFO{Hdr: header(owner, mdns.TypeHINFO, ttl), Cpu: "RFC8482", Os: ""}
}
