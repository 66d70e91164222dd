package httpfe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"autoradio"
	"autoradio/internal/testenv"
)

// A source that comes before the master's Icecast knows its mount is held,
// not refused: the front-end tries again, on the master of the moment,
// and the source's first bytes, sent with its head, reach the master that
// accepts it.
func TestLiveHeldSource(t *testing.T) {
	env := startLive(t, Config{SourceHold: time.Minute}, "/known.ogg")
	ctx := testenv.Context(t, 90*time.Second)
	next := startIcecast(t, 50, "/held.ogg")
	env.cluster.mu.Lock()
	env.cluster.mounts["/held.ogg"] = &autoradio.Mount{Name: "/held.ogg", Username: srcUser, Password: srcPass}
	env.cluster.mu.Unlock()
	// The new master is elected only once the source has been refused by
	// the old one and is being held.
	switched := env.electWhenHeld(ctx, t, 1, next)
	env.legacySource(ctx, t, "/held.ogg")
	<-switched
	next.waitSource(ctx, t, "/held.ogg")
	if v := metricValue(t, env.reg, "autoradio_source_connections_total", "result", "accepted"); v != 1 {
		t.Errorf("accepted sources = %v, want 1", v)
	}
	if v := metricValue(t, env.reg, "autoradio_source_auth_failures_total"); v != 0 {
		t.Errorf("auth failures counted: %v, want 0", v)
	}
}

// A PUT source waiting for 100 Continue is held the same way, and gets
// Icecast's 100 and 200 once the master knows the mount.
func TestLiveHeldPut(t *testing.T) {
	env := startLive(t, Config{SourceHold: time.Minute}, "/known.ogg")
	ctx := testenv.Context(t, 90*time.Second)
	next := startIcecast(t, 50, "/put.ogg")
	env.cluster.mu.Lock()
	env.cluster.mounts["/put.ogg"] = &autoradio.Mount{Name: "/put.ogg", Username: srcUser, Password: srcPass}
	env.cluster.mu.Unlock()
	switched := env.electWhenHeld(ctx, t, 2, next)
	if code, _ := env.sourceFrom(ctx, t, net.ParseIP("127.0.0.1"), "/put.ogg", basicAuth(srcUser, srcPass)); code != http.StatusOK {
		t.Fatalf("held PUT: %d, want 200", code)
	}
	<-switched
}

// electWhenHeld makes ic's node the master once sources were tried again
// tries times; the channel is closed when done (or ctx ended).
func (env *liveEnv) electWhenHeld(ctx context.Context, t *testing.T, tries float64, ic *icecast) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for metricValue(t, env.reg, "autoradio_source_hold_retries_total") < tries {
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		env.cluster.setMaster(&autoradio.MasterInfo{Name: "n2", IPs: []string{"127.0.0.1"}, IcecastPort: ic.port})
	}()
	t.Cleanup(func() { <-done })
	return done
}

// refusingMaster is a master's Icecast that answers every source 401, as
// one that does not know the mount; it counts the tries.
func refusingMaster(t *testing.T, c *fakeCluster) <-chan struct{} {
	addr, accepted := testenv.TCPServer(t, "127.0.0.1", func(conn net.Conn) {
		defer conn.Close()
		br := bufio.NewReader(conn)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		io.WriteString(conn, "HTTP/1.0 401 Authentication Required\r\nWWW-Authenticate: Basic realm=\"Icecast2 Server\"\r\n\r\nYou need to authenticate\r\n")
	})
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	c.setMaster(&autoradio.MasterInfo{Name: "n1", IPs: []string{"127.0.0.1"}, IcecastPort: p})
	return accepted
}

// A source held in vain gets Icecast's 401 once the hold is over, after
// the master was tried again; it is no guess.
func TestHoldGivesUp(t *testing.T) {
	c := newFakeCluster(&autoradio.Mount{Name: "/m.ogg", Username: srcUser, Password: srcPass})
	accepted := refusingMaster(t, c)
	s, reg := startServer(t, Config{SourceHold: 300 * time.Millisecond}, c)
	env := &liveEnv{fe: s.Addr().String(), reg: reg, cluster: c}
	ctx := testenv.Context(t, 30*time.Second)
	if code, _ := env.sourceFrom(ctx, t, net.ParseIP("127.0.0.1"), "/m.ogg", basicAuth(srcUser, srcPass)); code != http.StatusUnauthorized {
		t.Fatalf("held in vain: %d, want Icecast's 401", code)
	}
	if n := len(accepted); n < 2 {
		t.Errorf("the master was tried %d times, want at least 2", n)
	}
	if v := metricValue(t, reg, "autoradio_source_hold_retries_total"); v < 1 {
		t.Errorf("hold retries = %v, want at least 1", v)
	}
	if v := metricValue(t, reg, "autoradio_source_auth_failures_total"); v != 0 {
		t.Errorf("auth failures counted: %v, want 0", v)
	}
	// Counted once the handler returns, which may be after the source
	// read its answer.
	testenv.Eventually(t, 5*time.Second, func() error {
		if v := metricValue(t, reg, "autoradio_source_connections_total", "result", "rejected"); v != 1 {
			return fmt.Errorf("rejected sources = %v, want 1", v)
		}
		return nil
	})
}

// Shutting the front-end down ends a held source.
func TestHoldEndsOnShutdown(t *testing.T) {
	c := newFakeCluster(&autoradio.Mount{Name: "/m.ogg", Username: srcUser, Password: srcPass})
	refusingMaster(t, c)
	s, err := New(Config{Addr: "127.0.0.1:0", Domain: "radio.example.com", SourceHold: time.Hour}, c, prometheus.NewRegistry(), quietLog)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var runErr error
	stop := sync.OnceFunc(func() { cancel(); runErr = <-done })
	defer stop()
	conn := dialFE(t, s.Addr().String())
	conn.SetDeadline(time.Now().Add(testenv.Bound(30 * time.Second)))
	fmt.Fprintf(conn, "SOURCE /m.ogg HTTP/1.0\r\nAuthorization: %s\r\nContent-Type: application/ogg\r\n\r\n", basicAuth(srcUser, srcPass))
	// Held: nothing comes back while the hold lasts.
	conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if n, err := conn.Read(make([]byte, 1)); n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("answered while held: %d bytes, %v", n, err)
	}
	conn.SetReadDeadline(time.Now().Add(testenv.Bound(30 * time.Second)))
	stop()
	if runErr != nil {
		t.Errorf("Run: %v", runErr)
	}
	if _, err := io.ReadAll(conn); err != nil {
		t.Errorf("the held source's connection was not closed: %v", err)
	}
}
