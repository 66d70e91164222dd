package authguard

import "net/netip"

// AddrKey returns the key of a client address: the address itself for
// IPv4 (an IPv4-mapped IPv6 address is IPv4), its /64 for IPv6, since a
// single host commonly gets a whole /64 and could otherwise try from each
// of its addresses in turn.
func AddrKey(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.WithZone("").Prefix(64)
		return p.String()
	}
	return addr.String()
}
