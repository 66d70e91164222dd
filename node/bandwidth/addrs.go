package bandwidth

import (
	"fmt"
	"net"
	"slices"
)

// Addrs is an interface's name and addresses.
type Addrs struct {
	Name string
	IPs  []net.IP
}

// SystemAddrs lists this machine's interfaces and their addresses.
func SystemAddrs() ([]Addrs, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("bandwidth: listing interfaces: %w", err)
	}
	out := make([]Addrs, 0, len(ifs))
	for _, ifc := range ifs {
		as, err := ifc.Addrs()
		if err != nil {
			return nil, fmt.Errorf("bandwidth: addresses of %s: %w", ifc.Name, err)
		}
		a := Addrs{Name: ifc.Name}
		for _, addr := range as {
			if ipn, ok := addr.(*net.IPNet); ok {
				a.IPs = append(a.IPs, ipn.IP)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// Carrying returns, in the order of ifaces, the names of the interfaces
// that have one of ips: those that listeners of these addresses are
// served through. A loopback address is carried by the loopback
// interface, which answers for all of 127.0.0.0/8 with 127.0.0.1 alone.
func Carrying(ips []string, ifaces []Addrs) []string {
	var want []net.IP
	for _, s := range ips {
		if ip := net.ParseIP(s); ip != nil {
			want = append(want, ip)
		}
	}
	carries := func(have net.IP) bool {
		return slices.ContainsFunc(want, func(ip net.IP) bool {
			return ip.Equal(have) || ip.IsLoopback() && have.IsLoopback() && (ip.To4() == nil) == (have.To4() == nil)
		})
	}
	var out []string
	for _, ifc := range ifaces {
		if slices.ContainsFunc(ifc.IPs, carries) {
			out = append(out, ifc.Name)
		}
	}
	return out
}
