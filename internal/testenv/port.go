package testenv

import (
	"net"
	"strconv"
	"testing"
)

// FreePort finds a port that is free for both TCP and UDP on every given
// address, so that nodes on several loopback addresses can share it (and
// a DNS server can use it for both protocols).
func FreePort(t testing.TB, ips ...string) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			t.Fatalf("free port on %s: %v", ips[0], err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if portFree(port, ips) {
			return port
		}
	}
	t.Fatalf("no port free on all of %v", ips)
	return 0
}

func portFree(port int, ips []string) bool {
	for _, ip := range ips {
		addr := net.JoinHostPort(ip, strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		l.Close()
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		u.Close()
	}
	return true
}
