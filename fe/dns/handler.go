package dns

import (
	"errors"
	"net"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Handler answers queries for the zone; it implements miekg/dns's Handler.
// It is safe for concurrent use.
type Handler struct {
	cfg     Config
	zone    Zone
	metrics *metrics
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
	return &Handler{cfg: cfg, zone: zone, metrics: m}, nil
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
	case len(req.Question) != 1 || !optOK:
		m.Rcode = mdns.RcodeFormatError
	case opt != nil && opt.Version() != 0:
		m.Rcode = mdns.RcodeBadVers
	default:
		h.answer(m, req.Question[0])
	}
	h.fit(m, opt, udp)
	return m
}
