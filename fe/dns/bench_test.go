package dns

import (
	"fmt"
	"testing"

	"autoradio"
	"autoradio/fe/lb"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// discard is a ResponseWriter that drops what it is given, after packing
// it as the real server would.
type discard struct{ recorder }

func (d *discard) WriteMsg(m *mdns.Msg) error { _, err := m.Pack(); return err }

func benchHandler(b *testing.B, zone Zone) *Handler {
	h, err := NewHandler(Config{Domain: "radio.example.com", Logger: quietLogger()}, zone, prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// BenchmarkReplyApexA is the handler alone: an apex A query, 5 nodes.
func BenchmarkReplyApexA(b *testing.B) {
	h := benchHandler(b, manyNodes(5))
	req := query("radio.example.com.", mdns.TypeA).SetEdns0(1232, false)
	b.ReportAllocs()
	for b.Loop() {
		if m := h.Reply(req, true); len(m.Answer) != 5 {
			b.Fatal("wrong answer")
		}
	}
}

// balancer5 is a load balancer with 5 nodes.
func balancer5() *lb.Balancer {
	bal := lb.New(lb.Config{})
	var nodes []*autoradio.NodeStatus
	for i := range 5 {
		nodes = append(nodes, &autoradio.NodeStatus{Name: fmt.Sprintf("node%d", i), IPs: []string{fmt.Sprintf("127.0.0.%d", 11+i)},
			IcecastPort: 8000, IcecastOK: true, Listeners: 10 * i, MaxListeners: 1000})
	}
	bal.Update(nodes)
	return bal
}

// BenchmarkServeDNSBalancer is the general path (TCP's, and UDP's for
// unusual queries): the load balancer's ranking, address parsing,
// metrics, packing.
func BenchmarkServeDNSBalancer(b *testing.B) {
	h := benchHandler(b, BalancerZone(balancer5()))
	req := query("radio.example.com.", mdns.TypeA).SetEdns0(1232, false)
	w := &discard{}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeDNS(w, req)
	}
}

// BenchmarkServeUDP is what the UDP server does with a query, from the
// bytes read to the bytes to write, on the fast path: it must not
// allocate (the answers are computed again every Refresh, which the
// average over the run hides).
func BenchmarkServeUDP(b *testing.B) {
	h := benchHandler(b, BalancerZone(balancer5()))
	for _, q := range []struct {
		name  string
		qname string
		qtype uint16
	}{
		{"apex-A", "radio.example.com.", mdns.TypeA},
		{"stream-A", "Stream.Radio.example.com.", mdns.TypeA},
		{"SOA", "radio.example.com.", mdns.TypeSOA},
		{"NXDOMAIN", "no-such-name.radio.example.com.", mdns.TypeAAAA},
	} {
		req, err := query(q.qname, q.qtype).SetEdns0(1232, false).Pack()
		if err != nil {
			b.Fatal(err)
		}
		out := make([]byte, DefaultMaxUDPSize)
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if h.ServeUDP(req, out) == 0 {
					b.Fatal("no reply")
				}
			}
		})
	}
}
