package dns

import (
	"errors"
	"net"
	"sync/atomic"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Handler answers queries for the zone; it implements miekg/dns's Handler.
// It is safe for concurrent use.
type Handler struct {
	cfg     Config
	zone    Zone
	metrics *metrics
	// view is zone when it is a ViewZone (nil: no precomputed answers).
	view ViewZone
	// answers are the precomputed answers of ServeUDP's fast path;
	// building is set while one query computes them.
	answers  atomic.Pointer[answers]
	building atomic.Bool
}

// NewHandler returns a Handler for cfg that reads the nodes from zone and
// registers its metrics with reg (nil: no metrics).
func NewHandler(cfg Config, zone Zone, reg prometheus.Registerer) (*Handler, error) {
	if zone == nil {
		return nil, errors.New("dns: no zone")
	}
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, zone: zone, metrics: m}
	h.view, _ = zone.(ViewZone)
	return h, nil
}

// ServeDNS answers r on w, truncating UDP answers that do not fit.
func (h *Handler) ServeDNS(w mdns.ResponseWriter, r *mdns.Msg) {
	_, udp := w.LocalAddr().(*net.UDPAddr)
	m := h.Reply(r, udp)
	if m == nil {
		return
	}
	h.metrics.observe(m)
	if err := w.WriteMsg(m); err != nil {
		h.cfg.Logger.Debug("write reply", "remote", w.RemoteAddr(), "err", err)
	}
}

// Reply computes the answer to req, as sent over UDP (truncated to the
// negotiated size, TC set) or over TCP. It returns nil when req deserves
// no answer at all (it is itself a response).
func (h *Handler) Reply(req *mdns.Msg, udp bool) *mdns.Msg {
	if req.Response {
		return nil
	}
	m := new(mdns.Msg)
	m.SetReply(req)
	opt, optOK := requestEDNS(req)
	switch {
	case req.Opcode != mdns.OpcodeQuery:
		m.Rcode = mdns.RcodeNotImplemented
	case len(req.Question) != 1 || !optOK || req.Question[0].Qtype == mdns.TypeOPT:
		m.Rcode = mdns.RcodeFormatError
	case opt != nil && opt.Version() != 0:
		m.Rcode = mdns.RcodeBadVers
	default:
		h.answer(m, req.Question[0])
	}
	h.fit(m, opt, udp)
	return m
}

// accept is the server's first look at a packet, given only its header
// (miekg/dns's MsgAcceptFunc). It refuses what miekg/dns refuses, counting
// it, but passes on requests of other opcodes, which Reply answers NOTIMP
// with their question section.
func (h *Handler) accept(dh mdns.Header) mdns.MsgAcceptAction {
	switch action := mdns.DefaultMsgAcceptFunc(dh); action {
	case mdns.MsgRejectNotImplemented:
		return mdns.MsgAccept
	case mdns.MsgReject:
		h.metrics.invalid("FORMERR")
		return action
	case mdns.MsgIgnore:
		h.metrics.invalid("none")
		return action
	default:
		return action
	}
}

// invalid is told of a packet that does not parse (miekg/dns's
// MsgInvalidFunc): one too short for a header gets no answer, any other
// a FORMERR.
func (h *Handler) invalid(m []byte, _ error) {
	if len(m) < headerLen {
		h.metrics.invalid("none")
		return
	}
	h.metrics.invalid("FORMERR")
}

// headerLen is the size of a DNS message header.
const headerLen = 12
