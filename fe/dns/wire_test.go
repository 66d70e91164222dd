package dns

import (
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// exchangeRaw sends packet to addr over network and returns the raw
// answer; nil when none came within a second.
func exchangeRaw(t *testing.T, network, addr string, packet []byte) []byte {
	t.Helper()
	conn, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	dc := &mdns.Conn{Conn: conn}
	if _, err := dc.Write(packet); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	if network == "tcp" {
		msg, err := dc.ReadMsgHeader(nil)
		if err != nil {
			return nil
		}
		return msg
	}
	n, err := conn.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func unpack(t *testing.T, raw []byte) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg)
	if err := m.Unpack(raw); err != nil {
		t.Fatalf("answer does not parse: %v", err)
	}
	return m
}

func pack(t *testing.T, m *mdns.Msg) []byte {
	t.Helper()
	raw, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// The server's handling of what miekg/dns would reject or answer alone:
// every packet is counted, large EDNS queries are read whole, answers are
// compressed over UDP too, and every error answer keeps the question.
func TestServerWireEdges(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	h, err := NewHandler(Config{Domain: "radio.example.com", Logger: quietLogger()}, threeNodes, reg)
	if err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, h)
	queries := func(qtype, rcode string) float64 {
		var m dto.Metric
		if err := h.metrics.queries.WithLabelValues(qtype, rcode).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetCounter().GetValue()
	}

	t.Run("UDP query larger than 512 bytes", func(t *testing.T) {
		q := query("radio.example.com.", mdns.TypeA)
		q.SetEdns0(1232, false)
		opt := q.IsEdns0()
		opt.Option = append(opt.Option, &mdns.EDNS0_PADDING{Padding: make([]byte, 700)})
		raw := pack(t, q)
		if len(raw) <= 512 {
			t.Fatalf("query of %d bytes", len(raw))
		}
		ans := exchangeRaw(t, "udp", addr, raw)
		if ans == nil {
			t.Fatal("no answer")
		}
		if m := unpack(t, ans); m.Rcode != mdns.RcodeSuccess || len(m.Answer) == 0 {
			t.Errorf("%d-byte query: rcode %s, %d answers; want NOERROR and node addresses", len(raw), mdns.RcodeToString[m.Rcode], len(m.Answer))
		}
	})

	t.Run("UDP answers are compressed like TCP ones", func(t *testing.T) {
		raw := pack(t, query("radio.example.com.", mdns.TypeSOA))
		udp, tcp := exchangeRaw(t, "udp", addr, raw), exchangeRaw(t, "tcp", addr, raw)
		if udp == nil || tcp == nil {
			t.Fatalf("no answer: udp %d bytes, tcp %d bytes", len(udp), len(tcp))
		}
		if len(udp) != len(tcp) {
			t.Errorf("SOA answer: %d bytes over UDP, %d over TCP", len(udp), len(tcp))
		}
		if m := unpack(t, udp); len(m.Answer) != 1 {
			t.Errorf("SOA answer over UDP: %v", m)
		}
	})

	t.Run("NOTIMP keeps the question", func(t *testing.T) {
		q := query("radio.example.com.", mdns.TypeA)
		q.Opcode = mdns.OpcodeStatus
		m := unpack(t, exchangeRaw(t, "udp", addr, pack(t, q)))
		if m.Rcode != mdns.RcodeNotImplemented || len(m.Question) != 1 || m.Question[0].Name != "radio.example.com." {
			t.Errorf("STATUS query: rcode %s, question %v; want NOTIMP with the question", mdns.RcodeToString[m.Rcode], m.Question)
		}
	})

	t.Run("QTYPE OPT is a format error", func(t *testing.T) {
		m := unpack(t, exchangeRaw(t, "udp", addr, pack(t, query("radio.example.com.", mdns.TypeOPT))))
		if m.Rcode != mdns.RcodeFormatError || len(m.Question) != 1 {
			t.Errorf("QTYPE=OPT: rcode %s, question %v; want FORMERR with the question", mdns.RcodeToString[m.Rcode], m.Question)
		}
	})

	t.Run("packets refused before the handler are counted", func(t *testing.T) {
		before := queries("invalid", "FORMERR")
		two := query("radio.example.com.", mdns.TypeA)
		two.Question = append(two.Question, two.Question[0])
		good := pack(t, query("radio.example.com.", mdns.TypeA))
		for _, p := range [][]byte{pack(t, two), good[:len(good)-3]} {
			if m := unpack(t, exchangeRaw(t, "udp", addr, p)); m.Rcode != mdns.RcodeFormatError {
				t.Errorf("packet %x: rcode %s, want FORMERR", p, mdns.RcodeToString[m.Rcode])
			}
		}
		// Too short for a header: no answer (it could only amplify), but
		// counted.
		if ans := exchangeRaw(t, "udp", addr, []byte{1, 2, 3}); ans != nil {
			t.Errorf("3-byte packet answered: %x", ans)
		}
		if got := queries("invalid", "FORMERR") - before; got != 2 {
			t.Errorf("%v malformed queries counted as FORMERR, want 2", got)
		}
		if got := queries("invalid", "none"); got != 1 {
			t.Errorf("%v unanswered packets counted, want 1", got)
		}
	})
}
