package dns

import (
	"strings"

	mdns "github.com/miekg/dns"
)

// challengeLabel starts the names of ACME DNS-01 challenges (RFC 8555,
// section 8.4).
const challengeLabel = "_acme-challenge."

// challenge answers a question for the name of a pending ACME challenge,
// whose TXT records Config.Challenges gives; it reports whether it did.
// The name exists only while a challenge is pending: otherwise it is left
// to the zone, which knows no such name.
func (h *Handler) challenge(m *mdns.Msg, q mdns.Question, name string) bool {
	if h.cfg.Challenges == nil || !strings.HasPrefix(name, challengeLabel) {
		return false
	}
	values := h.cfg.Challenges(name)
	if len(values) == 0 {
		return false
	}
	if q.Qtype != mdns.TypeTXT {
		m.Ns = []mdns.RR{h.soa(h.cfg.NegativeTTL)}
		return true
	}
	for _, v := range values {
		m.Answer = append(m.Answer, &mdns.TXT{
			Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeTXT, Class: mdns.ClassINET, Ttl: uint32(h.cfg.TTL.Seconds())},
			Txt: []string{v},
		})
	}
	return true
}
