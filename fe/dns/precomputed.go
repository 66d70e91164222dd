package dns

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
)

// answers are the zone's replies in wire format, computed by Reply (the
// general path, so both paths give the same answers) once per view of a
// ViewZone and again every Config.Refresh for the load balancer's order.
// They cover the names the zone has (apex, stream, every node) for the
// types in servedTypes, and NXDOMAIN for other host names in the zone.
// Names with other characters (such as the underscore labels of ACME
// challenges) and other types go to the general path.
type answers struct {
	version uint64
	built   time.Time
	zone    []byte               // the zone's name in wire format
	names   map[string]nameSet   // by lower-case wire-format name
	nx      *template            // nil: the general path answers
	counts  map[uint16]*[2]count // by qtype: NOERROR, NXDOMAIN
	next    atomic.Uint32        // turns the balanced answers
}

// nameSet holds a name's replies by qtype; the balanced names' A and AAAA
// have several, in different load-balancer orders.
type nameSet map[uint16][]*template

// template is one reply, to a lower-case query without EDNS, ID 0.
type template struct {
	wire     []byte
	qnameLen int // length of the question name
	nx       bool
}

// servedTypes are the qtypes the fast path answers. Other types of
// existing names are NODATA too, but rare: the general path answers them.
var servedTypes = []uint16{
	mdns.TypeA, mdns.TypeAAAA, mdns.TypeSOA, mdns.TypeNS, mdns.TypeANY,
	mdns.TypeMX, mdns.TypeTXT, mdns.TypeCNAME, mdns.TypePTR, mdns.TypeSRV,
	mdns.TypeCAA, mdns.TypeHTTPS, mdns.TypeSVCB, mdns.TypeDS, mdns.TypeDNSKEY,
}

// permutations is how many load-balancer orders of the balanced names'
// answers are kept; queries take them in turn.
const permutations = 8

// nxLabel names the NXDOMAIN template's question: not a host name, so no
// node has it.
const nxLabel = "_nxdomain"

// buildAnswers computes the answers for the zone as it is now.
func (h *Handler) buildAnswers(view ViewZone, version uint64) *answers {
	a := &answers{version: version, built: time.Now(), names: map[string]nameSet{}, counts: map[uint16]*[2]count{}}
	a.zone = packName(h.cfg.Domain)
	for _, qt := range servedTypes {
		a.counts[qt] = h.metrics.counters(qt)
	}
	a.add(h, h.cfg.Domain, true)
	a.add(h, streamLabel+"."+h.cfg.Domain, true)
	for _, n := range view.Names() {
		name := n + "." + h.cfg.Domain
		if validName(name) && n != streamLabel {
			a.add(h, name, false)
		}
	}
	if t := h.template(nxLabel+"."+h.cfg.Domain, mdns.TypeA); t != nil && t.nx {
		a.nx = t
	}
	return a
}

// add computes name's replies for every served type.
func (a *answers) add(h *Handler, name string, balanced bool) {
	key := packName(name)
	if key == nil {
		return
	}
	set := nameSet{}
	for _, qt := range servedTypes {
		n := 1
		if balanced && (qt == mdns.TypeA || qt == mdns.TypeAAAA) {
			n = permutations
		}
		for range n {
			t := h.template(name, qt)
			if t == nil || t.nx {
				return // not a name of the zone after all
			}
			set[qt] = append(set[qt], t)
		}
	}
	a.names[string(key)] = set
}

// template is the general path's reply to name and qtype, or nil when it
// is neither NOERROR nor NXDOMAIN.
func (h *Handler) template(name string, qtype uint16) *template {
	req := new(mdns.Msg)
	req.Question = []mdns.Question{{Name: name, Qtype: qtype, Qclass: mdns.ClassINET}}
	m := h.Reply(req, false)
	if m == nil || (m.Rcode != mdns.RcodeSuccess && m.Rcode != mdns.RcodeNameError) {
		return nil
	}
	wire, err := m.Pack()
	if err != nil {
		return nil
	}
	return &template{wire: wire, qnameLen: len(packName(name)), nx: m.Rcode == mdns.RcodeNameError}
}

// packName returns name in wire format (nil if it is not a name).
func packName(name string) []byte {
	buf := make([]byte, maxNameLen)
	n, err := mdns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// lookup returns the template for q, or nil.
func (a *answers) lookup(q *wireQuery) *template {
	name := q.name()
	if set, ok := a.names[string(name)]; ok {
		ts := set[q.qtype]
		switch len(ts) {
		case 0:
			return nil
		case 1:
			return ts[0]
		default:
			return ts[a.next.Add(1)%uint32(len(ts))]
		}
	}
	if a.nx == nil || !q.hostnameOnly || a.counts[q.qtype] == nil {
		return nil
	}
	// Another host name in the zone: NXDOMAIN.
	start := len(name) - len(a.zone)
	if start <= 0 || !bytes.Equal(name[start:], a.zone) || !q.labelStartsAt(start) {
		return nil
	}
	return a.nx
}

// labelStartsAt reports whether a label of the question name starts at off.
func (q *wireQuery) labelStartsAt(off int) bool {
	for _, s := range q.labelStarts[:q.labels] {
		if int(s) == off {
			return true
		}
	}
	return false
}

// write writes into out the reply to q from t, or returns 0 when it does
// not fit in out or in limit bytes.
func (a *answers) write(t *template, q *wireQuery, req, out []byte, limit, maxUDP int) int {
	qLen := q.qEnd - headerLen
	tq := t.qnameLen + 4
	records := t.wire[headerLen+tq:]
	n := headerLen + qLen + len(records)
	if q.edns {
		n += 11
	}
	if n > limit || n > len(out) {
		return 0
	}
	copy(out, t.wire[:headerLen])
	binary.BigEndian.PutUint16(out, q.id)
	out[2] |= byte((q.flags & (flagRD | flagCD)) >> 8)
	out[3] |= byte(q.flags & (flagRD | flagCD))
	w := headerLen + copy(out[headerLen:], req[headerLen:q.qEnd])
	copy(out[w:], records)
	if delta := qLen - tq; delta != 0 {
		// The question's name is longer or shorter than the template's
		// (NXDOMAIN): move the pointers to its zone suffix and beyond.
		from := headerLen + t.qnameLen - len(a.zone)
		rrs := int(binary.BigEndian.Uint16(t.wire[6:])) + int(binary.BigEndian.Uint16(t.wire[8:])) + int(binary.BigEndian.Uint16(t.wire[10:]))
		if !relocate(out[w:w+len(records)], rrs, from, delta) {
			return 0
		}
	}
	w += len(records)
	if q.edns {
		binary.BigEndian.PutUint16(out[10:], binary.BigEndian.Uint16(out[10:])+1)
		var do byte
		if q.do {
			do = 0x80
		}
		opt := [11]byte{0, byte(mdns.TypeOPT >> 8), byte(mdns.TypeOPT), byte(maxUDP >> 8), byte(maxUDP), 0, 0, do, 0, 0, 0}
		w += copy(out[w:], opt[:])
	}
	return w
}

// relocate adds delta to the compression pointers at or after from in the
// names of the rrs records in b.
func relocate(b []byte, rrs, from, delta int) bool {
	i := 0
	var ok bool
	for range rrs {
		if i, ok = relocateName(b, i, from, delta); !ok || i+10 > len(b) {
			return false
		}
		typ, rdlen := binary.BigEndian.Uint16(b[i:]), int(binary.BigEndian.Uint16(b[i+8:]))
		i += 10
		end := i + rdlen
		if end > len(b) {
			return false
		}
		switch typ {
		case mdns.TypeNS:
			_, ok = relocateName(b, i, from, delta)
		case mdns.TypeSOA:
			var j int
			if j, ok = relocateName(b, i, from, delta); ok {
				_, ok = relocateName(b, j, from, delta)
			}
		}
		if !ok {
			return false
		}
		i = end
	}
	return i == len(b)
}

// relocateName moves the pointer ending the name at b[i:], if any, and
// returns the offset after the name.
func relocateName(b []byte, i, from, delta int) (int, bool) {
	for i < len(b) {
		l := int(b[i])
		switch {
		case l == 0:
			return i + 1, true
		case l&0xc0 == 0xc0:
			if i+2 > len(b) {
				return 0, false
			}
			if p := int(binary.BigEndian.Uint16(b[i:]) & 0x3fff); p >= from {
				binary.BigEndian.PutUint16(b[i:], uint16(0xc000|(p+delta)))
			}
			return i + 2, true
		case l > 63:
			return 0, false
		}
		i += 1 + l
	}
	return 0, false
}
