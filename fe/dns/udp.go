package dns

import (
	"encoding/binary"
	"time"

	mdns "github.com/miekg/dns"
)

// ServeUDP answers the UDP query req, writing the reply into out (which
// should hold MaxUDPSize bytes) and returning its length; 0 means no
// reply. Queries for the names and types the zone has, and NXDOMAIN for
// other host names in it, are answered from wire-format answers computed
// once per view of a ViewZone, patching only the ID, the question's case
// and EDNS; this path does not allocate. Every other packet takes the
// general path, through miekg/dns as on TCP.
func (h *Handler) ServeUDP(req, out []byte) int {
	if n := h.serveFast(req, out); n > 0 {
		return n
	}
	return h.serveGeneral(req, out)
}

// serveFast answers req from the precomputed answers, or returns 0.
func (h *Handler) serveFast(req, out []byte) int {
	if h.view == nil {
		return 0
	}
	var q wireQuery
	if !q.parse(req) {
		return 0
	}
	a := h.current()
	if a == nil {
		return 0
	}
	t := a.lookup(&q)
	if t == nil {
		return 0
	}
	limit := mdns.MinMsgSize
	if q.edns {
		limit = min(max(int(q.udpSize), mdns.MinMsgSize), h.cfg.MaxUDPSize)
	}
	n := a.write(t, &q, req, out, limit, h.cfg.MaxUDPSize)
	if n > 0 {
		i := 0
		if t.nx {
			i = 1
		}
		a.counts[q.qtype][i].inc()
	}
	return n
}

// current returns the answers for the zone's current version, computing
// them when the version changed or they are older than Config.Refresh.
// One query computes them while the others take the general path (the
// version changed) or the previous answers (they are only old).
func (h *Handler) current() *answers {
	version := h.view.Version()
	a := h.answers.Load()
	fresh := a != nil && a.version == version
	if fresh && time.Since(a.built) < h.cfg.Refresh {
		return a
	}
	if !h.building.CompareAndSwap(false, true) {
		if fresh {
			return a
		}
		return nil
	}
	defer h.building.Store(false)
	a = h.buildAnswers(h.view, version)
	h.answers.Store(a)
	return a
}

// serveGeneral answers req as miekg/dns's server would hand it to
// ServeDNS: a header its accept function rejects gets FORMERR (or NOTIMP)
// with no question, one that does not unpack FORMERR with what unpacked.
func (h *Handler) serveGeneral(req, out []byte) int {
	if len(req) < headerLen {
		h.invalid(req, mdns.ErrShortRead)
		return 0
	}
	var hdr [headerLen]byte
	copy(hdr[:], req) // the header alone, its counts zeroed
	clear(hdr[4:])
	m := new(mdns.Msg)
	if err := m.Unpack(hdr[:]); err != nil {
		h.invalid(req, err)
		return 0
	}
	var reply *mdns.Msg
	switch action := h.accept(wireHeader(req)); action {
	case mdns.MsgAccept:
		err := m.Unpack(req)
		if err == nil {
			if reply = h.Reply(m, true); reply == nil {
				return 0
			}
			h.metrics.observe(reply)
			break
		}
		h.invalid(req, err)
		fallthrough
	case mdns.MsgReject, mdns.MsgRejectNotImplemented:
		reply = rejection(m, action == mdns.MsgRejectNotImplemented)
	default:
		return 0
	}
	wire, err := reply.PackBuffer(out)
	if err != nil || len(wire) > len(out) {
		h.cfg.Logger.Debug("pack reply", "err", err)
		return 0
	}
	return copy(out, wire)
}

// rejection turns req into the FORMERR (or NOTIMP) reply miekg/dns sends
// to a query it does not pass on.
func rejection(req *mdns.Msg, notImplemented bool) *mdns.Msg {
	opcode := req.Opcode
	req.SetRcodeFormatError(req)
	req.Zero = false
	if notImplemented {
		req.Opcode = opcode
		req.Rcode = mdns.RcodeNotImplemented
	}
	req.Ns, req.Answer, req.Extra = nil, nil, nil
	return req
}

// wireHeader reads a message header.
func wireHeader(b []byte) mdns.Header {
	be := binary.BigEndian
	return mdns.Header{Id: be.Uint16(b), Bits: be.Uint16(b[2:]), Qdcount: be.Uint16(b[4:]),
		Ancount: be.Uint16(b[6:]), Nscount: be.Uint16(b[8:]), Arcount: be.Uint16(b[10:])}
}
