package dns

import (
	"testing"

	mdns "github.com/miekg/dns"
)

// FuzzReply feeds the handler any message that parses, as the server
// would pass it on: the reply, when there is one, must pack, carry the
// request's ID and, over UDP, fit the size the client can take (512
// bytes, or its EDNS0 buffer size capped at MaxUDPSize).
func FuzzReply(f *testing.F) {
	seeds := []*mdns.Msg{
		query("radio.example.com.", mdns.TypeA),
		query("radio.example.com.", mdns.TypeAAAA).SetEdns0(4096, true),
		query("node1.radio.example.com.", mdns.TypeA),
		query("radio.example.com.", mdns.TypeSOA),
		query("radio.example.com.", mdns.TypeNS).SetEdns0(100, false),
		query("other.example.org.", mdns.TypeA),
		query("radio.example.com.", mdns.TypeANY),
	}
	for _, q := range seeds {
		wire, err := q.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(wire)
	}
	h := testHandler(f, Config{MaxRecords: 40, Logger: quietLogger()}, manyNodes(40))
	f.Fuzz(func(t *testing.T, wire []byte) {
		req := new(mdns.Msg)
		if req.Unpack(wire) != nil {
			return // the server drops or answers these before the handler
		}
		for _, udp := range []bool{true, false} {
			m := h.Reply(req, udp)
			if m == nil {
				if !req.Response {
					t.Fatalf("no reply to a query (udp %v)", udp)
				}
				continue
			}
			out, err := m.Pack()
			if err != nil {
				t.Fatalf("reply does not pack (udp %v): %v\n%v", udp, err, m)
			}
			if m.Id != req.Id {
				t.Errorf("reply ID %d, request ID %d", m.Id, req.Id)
			}
			if limit := clientSize(h, req); udp && len(out) > limit {
				t.Errorf("UDP reply of %d bytes, client takes %d", len(out), limit)
			}
		}
	})
}

// clientSize is the largest UDP reply the client of req can take.
func clientSize(h *Handler, req *mdns.Msg) int {
	opt, ok := requestEDNS(req)
	if opt == nil || !ok {
		return mdns.MinMsgSize
	}
	return min(max(int(opt.UDPSize()), mdns.MinMsgSize), h.cfg.MaxUDPSize)
}
