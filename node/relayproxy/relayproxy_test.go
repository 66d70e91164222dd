package relayproxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"autoradio/internal/testenv"
)

// upstream is a stand-in for a master's Icecast: it answers each request
// with its name, then streams, or (silent) never answers. accepted gets a
// value per connection.
func upstream(t *testing.T, name string, silent bool) (addr string, accepted <-chan struct{}) {
	t.Helper()
	if silent {
		return testenv.TCPServer(t, "127.0.0.1", nil)
	}
	return testenv.TCPServer(t, "127.0.0.1", func(c net.Conn) {
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.0 200 OK\r\nServer: "+name+"\r\n\r\n")
		for {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write([]byte("audio")); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// start runs a proxy until the test ends.
func start(t testing.TB) *Proxy {
	t.Helper()
	p, err := Listen("127.0.0.1", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return p
}

// relay connects to the proxy as Icecast's relay does and sends its
// request.
func relay(t testing.TB, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	ip, port := p.Addr()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(port)), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /live.ogg HTTP/1.0\r\nUser-Agent: Icecast 2.4.4\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	return c, bufio.NewReader(c)
}

// server reads the answer's Server header.
func server(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Server: "); ok {
			return v
		}
		if strings.TrimSpace(line) == "" {
			t.Fatal("no Server header")
		}
	}
}

// closedWithin asserts that the proxy closes c within d.
func closedWithin(t *testing.T, c net.Conn, r *bufio.Reader, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", d)
	}
}

func TestRelaysFollowTheMaster(t *testing.T) {
	a, _ := upstream(t, "a", false)
	b, _ := upstream(t, "b", false)
	p := start(t)
	p.SetUpstream(a)
	c1, r1 := relay(t, p)
	if got := server(t, r1); got != "a" {
		t.Fatalf("relayed to %q, want a", got)
	}
	if _, err := io.ReadFull(r1, make([]byte, 100)); err != nil {
		t.Fatalf("no stream through the proxy: %v", err)
	}
	if n := p.SetUpstream(a); n != 0 {
		t.Errorf("setting the same upstream closed %d connections", n)
	}

	if got := p.Upstreams(); !slices.Equal(got, []string{a}) {
		t.Errorf("upstreams %q, want %q", got, a)
	}

	// A new master: new relays go to it, the one to the old master goes
	// on until it is closed as stale.
	before := time.Now()
	if n := p.SetUpstream(b); n != 0 {
		t.Errorf("a new upstream closed %d connections, want 0", n)
	}
	_, r2 := relay(t, p)
	if got := server(t, r2); got != "b" {
		t.Fatalf("relayed to %q, want b", got)
	}
	if _, err := io.ReadFull(r1, make([]byte, 100)); err != nil {
		t.Fatalf("the relay to the old master stopped before it was closed: %v", err)
	}
	if got, want := p.Upstreams(), slices.Sorted(slices.Values([]string{a, b})); !slices.Equal(got, want) {
		t.Errorf("upstreams %q, want %q and %q", got, a, b)
	}
	if n := p.Stale(); n != 1 {
		t.Errorf("%d stale connections, want 1", n)
	}
	if n := p.Established(before); n != 1 {
		t.Errorf("%d connections to the new upstream established since it was set, want 1", n)
	}
	if n := p.Established(time.Now()); n != 0 {
		t.Errorf("%d connections established from now on, want 0", n)
	}
	if n := p.CloseStale(); n != 1 {
		t.Errorf("closed %d stale connections, want 1", n)
	}
	closedWithin(t, c1, r1, time.Second)
	if got := p.Upstreams(); !slices.Equal(got, []string{b}) {
		t.Errorf("upstreams after closing the stale ones %q, want %q", got, b)
	}
	if _, err := io.ReadFull(r2, make([]byte, 100)); err != nil {
		t.Fatalf("closing the stale relays closed the current one: %v", err)
	}
}

func TestRefusesWhileItHasNoUpstream(t *testing.T) {
	p := start(t)
	c, r := relay(t, p)
	closedWithin(t, c, r, time.Second)

	// A relay waiting for a master that does not answer is dropped as
	// soon as the node has no master to relay from (it became master).
	silent, accepted := upstream(t, "silent", true)
	p.SetUpstream(silent)
	c, r = relay(t, p)
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("the proxy did not connect to the upstream")
	}
	if n := p.SetUpstream(""); n != 1 {
		t.Errorf("closed %d connections, want 1", n)
	}
	closedWithin(t, c, r, time.Second)
}

func TestUnreachableMasterClosesTheRelay(t *testing.T) {
	p := start(t)
	p.SetUpstream("127.0.0.1:1") // nothing listens there
	c, r := relay(t, p)
	closedWithin(t, c, r, time.Second)
}

// BenchmarkRelayedStream measures the proxy's hop for one relay (there is
// one per mount on every node that is not master).
func BenchmarkRelayedStream(b *testing.B) {
	chunk := make([]byte, 32<<10)
	addr, _ := testenv.TCPServer(b, "127.0.0.1", func(c net.Conn) {
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			return
		}
		for {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	p := start(b)
	p.SetUpstream(addr)
	c, r := relay(b, p)
	buf := make([]byte, len(chunk))
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(r, buf); err != nil {
			b.Fatal(err)
		}
	}
}
