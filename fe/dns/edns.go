package dns

import mdns "github.com/miekg/dns"

// requestEDNS returns the request's OPT record (nil without EDNS0) and
// false when the request carries more than one, which RFC 6891 makes a
// format error.
func requestEDNS(req *mdns.Msg) (*mdns.OPT, bool) {
	var opt *mdns.OPT
	for _, rr := range req.Extra {
		if o, ok := rr.(*mdns.OPT); ok {
			if opt != nil {
				return nil, false
			}
			opt = o
		}
	}
	return opt, true
}

// fit adds the OPT record an EDNS0 request expects and, over UDP,
// truncates m to the size the client can take: its advertised buffer size
// capped at MaxUDPSize, or 512 bytes without EDNS0. Truncation drops whole
// records and sets TC, so the client retries over TCP.
func (h *Handler) fit(m *mdns.Msg, reqOpt *mdns.OPT, udp bool) {
	size := mdns.MinMsgSize
	if reqOpt != nil {
		size = min(max(int(reqOpt.UDPSize()), mdns.MinMsgSize), h.cfg.MaxUDPSize)
		m.SetEdns0(uint16(h.cfg.MaxUDPSize), reqOpt.Do())
	}
	if udp {
		m.Truncate(size)
	}
	// Truncate turns compression off for a message that fits without it;
	// compressed, it is smaller, which is what an answer to a spoofed
	// query should be.
	m.Compress = true
}
