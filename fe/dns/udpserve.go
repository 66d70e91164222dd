package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// udpHandler is a Handler that answers UDP packets in wire format
// (*Handler): the Server then reads and writes them itself, in batches on
// one socket per core, instead of through miekg/dns.
type udpHandler interface {
	ServeUDP(req, out []byte) int
}

// batchSize is how many datagrams one system call reads or writes.
const batchSize = 32

// listenUDP binds n UDP sockets to host:port with SO_REUSEPORT, so that
// the kernel spreads the clients over them; the first one picks the port
// when it is 0.
func listenUDP(host, port string, n int) ([]net.PacketConn, error) {
	lc := net.ListenConfig{Control: reusePort}
	var pcs []net.PacketConn
	for range n {
		pc, err := lc.ListenPacket(context.Background(), "udp", net.JoinHostPort(host, port))
		if err != nil {
			closeAll(pcs)
			return nil, fmt.Errorf("dns: listen udp: %w", err)
		}
		pcs = append(pcs, pc)
		_, port, _ = net.SplitHostPort(pc.LocalAddr().String())
	}
	return pcs, nil
}

func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}

func closeAll(pcs []net.PacketConn) {
	for _, pc := range pcs {
		pc.Close()
	}
}

// batchConn reads and writes several datagrams per system call
// (recvmmsg/sendmmsg on Linux, one at a time elsewhere).
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

func newBatchConn(pc net.PacketConn) batchConn {
	if a, ok := pc.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		return ipv6.NewPacketConn(pc)
	}
	return ipv4.NewPacketConn(pc)
}

// udpLoop serves h on one socket until it is closed.
type udpLoop struct {
	pc           net.PacketConn
	h            udpHandler
	readSize     int // UDPSize: longer queries are cut
	writeTimeout time.Duration
	log          *slog.Logger
}

// run reads batches of queries and writes the batch of their replies.
// It returns nil once the socket is closed.
func (l *udpLoop) run() error {
	bc := newBatchConn(l.pc)
	in, out := make([]ipv4.Message, batchSize), make([]ipv4.Message, batchSize)
	replies := make([][]byte, batchSize)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, l.readSize)}
		replies[i] = make([]byte, 64*1024)
		out[i].Buffers = [][]byte{nil}
	}
	for {
		n, err := bc.ReadBatch(in, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// As miekg/dns's server does: go on after errors that say
			// they pass (an ICMP error reported on the socket).
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				l.log.Debug("read udp", "err", err)
				continue
			}
			return fmt.Errorf("dns: read udp: %w", err)
		}
		k := 0
		for i := range in[:n] {
			size := l.h.ServeUDP(in[i].Buffers[0][:in[i].N], replies[k])
			if size == 0 {
				continue
			}
			out[k].Buffers[0], out[k].Addr = replies[k][:size], in[i].Addr
			k++
		}
		l.write(bc, out[:k])
	}
}

// write sends the replies, dropping those the socket refuses: a client
// that cannot take its answer asks again.
func (l *udpLoop) write(bc batchConn, out []ipv4.Message) {
	if len(out) == 0 {
		return
	}
	l.pc.SetWriteDeadline(time.Now().Add(l.writeTimeout))
	for len(out) > 0 {
		n, err := bc.WriteBatch(out, 0)
		if err != nil {
			l.log.Debug("write udp", "remote", out[0].Addr, "err", err)
			n = max(n, 1) // skip the reply that failed
		}
		out = out[n:]
	}
}
