package testenv

import (
	"net"
	"strconv"
	"testing"
)

func TestFreePortBindsTCPAndUDPOnEveryAddress(t *testing.T) {
	ips := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	port := FreePort(t, ips...)
	for _, ip := range ips {
		addr := net.JoinHostPort(ip, strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("port %d is not free for TCP on %s: %v", port, ip, err)
		}
		defer l.Close()
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Fatalf("port %d is not free for UDP on %s: %v", port, ip, err)
		}
		defer u.Close()
	}
}

func TestFreePortSkipsAPortTakenOnAnotherAddress(t *testing.T) {
	// A port held for UDP on 127.0.0.2 only is not free for a set of
	// addresses that includes 127.0.0.2.
	u, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	taken := u.LocalAddr().(*net.UDPAddr).Port
	if portFree(taken, []string{"127.0.0.1", "127.0.0.2"}) {
		t.Fatalf("portFree(%d) is true while 127.0.0.2 holds it for UDP", taken)
	}
}
