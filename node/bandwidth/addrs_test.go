package bandwidth

import (
	"io"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"autoradio/internal/testenv"
)

var testAddrs = []Addrs{
	{Name: "lo", IPs: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}},
	{Name: "eth0", IPs: []net.IP{net.ParseIP("192.0.2.10"), net.ParseIP("2001:db8::10")}},
	{Name: "eth1", IPs: []net.IP{net.ParseIP("198.51.100.7")}},
}

func TestCarrying(t *testing.T) {
	for _, tc := range []struct {
		ips  []string
		want []string
	}{
		{[]string{"192.0.2.10"}, []string{"eth0"}},
		{[]string{"2001:db8::10", "198.51.100.7"}, []string{"eth0", "eth1"}},
		{[]string{"127.0.0.101"}, []string{"lo"}}, // not assigned, but lo's
		{[]string{"::1"}, []string{"lo"}},
		{[]string{"192.0.2.11", "not an address"}, nil}, // a neighbour's
	} {
		if got := Carrying(tc.ips, testAddrs); !slices.Equal(got, tc.want) {
			t.Errorf("Carrying(%v) = %v, want %v", tc.ips, got, tc.want)
		}
	}
}

// A node whose address is a loopback one measures lo as well as the
// default route's interface, and adds them up.
func TestMonitorSumsInterfaces(t *testing.T) {
	p := newFakeProc(t)
	write := func(lo, eth uint64) {
		p.write("net/dev", "Inter-|   Receive                                                |  Transmit\n"+
			" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"+
			"    lo: 1 1 0 0 0 0 0 0 "+itoa(lo)+" 1 0 0 0 0 0 0\n"+
			"enp0s31f6: 5 5 0 0 0 0 0 0 "+itoa(eth)+" 7 0 0 0 0 0 0\n")
	}
	write(0, 0)
	m, err := New(Config{ProcPath: p.root, IPs: []string{"127.0.0.101"}, Addrs: func() ([]Addrs, error) { return testAddrs, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if m.Interface() != "enp0s31f6,lo" {
		t.Errorf("Interface() = %q, want the default route's and lo", m.Interface())
	}
	t0 := time.Unix(0, 0)
	m.Sample(t0)
	write(3000, 1000)
	if r, _ := m.Sample(t0.Add(time.Second)); r != 32000 {
		t.Errorf("rate %v, want 32000", r)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// What a listener on the node's loopback address receives is measured:
// the bandwidth read 0 on loopback when only the default route's
// interface was.
func TestMonitorCountsAListenerOnLoopback(t *testing.T) {
	const ip, size = "127.0.0.101", 4 << 20
	m, err := New(Config{IPs: []string{ip}})
	if err != nil {
		t.Fatal(err)
	}
	before, err := m.read()
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := testenv.TCPServer(t, ip, func(c net.Conn) {
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		c.Write(make([]byte, size))
	})
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := io.CopyN(io.Discard, c, size); err != nil {
		t.Fatalf("the listener received %d bytes: %v", n, err)
	}
	after, err := m.read()
	if err != nil {
		t.Fatal(err)
	}
	if after-before < size {
		t.Errorf("%s counted %d bytes sent, want at least the %d the listener received", m.Interface(), after-before, size)
	}
}
