package nscluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// StreamHost is the name listeners and sources use.
const StreamHost = "stream." + Domain

// stallTimeout is how long a listener waits for data before it gives up
// on a connection and starts again, as players do: without it a
// listener on a host cut off the network would wait forever. 10 s is
// Icecast's own source timeout, and about a player's patience.
const stallTimeout = 10 * time.Second

// retryDelay is the pause of a listener between a dropped connection and
// the next attempt.
const retryDelay = 250 * time.Millisecond

// Listener plays a mount the way a real player does, from the clients
// namespace: it resolves stream.radio.test with the cluster's DNS (the
// name servers in order, one second each), opens
// http://stream.radio.test/<mount>, follows the redirect, and reads. When
// the stream ends or stalls it starts again. It records every connection
// (a Segment) and the longest time without data.
type Listener struct {
	c      *Cluster
	mount  string
	cancel context.CancelFunc
	done   chan struct{}
	http   *http.Client

	mu       sync.Mutex
	segments []*Segment
	last     time.Time
	maxStall time.Duration
	attempts int
	lastErr  error
}

// Segment is what one connection of a listener received.
type Segment struct {
	// Node is the host:port the listener was redirected to.
	Node  string
	Start time.Time
	End   time.Time
	Data  []byte
	// Err is why the connection ended ("" when the listener was stopped).
	Err string
}

// Listen starts a listener of mount; it runs until Stop or the end of ctx.
func (c *Cluster) Listen(ctx context.Context, mount string) *Listener {
	ctx, cancel := context.WithCancel(ctx)
	l := &Listener{c: c, mount: mount, cancel: cancel, done: make(chan struct{}), last: time.Now()}
	l.http = &http.Client{Transport: &http.Transport{
		DialContext:           l.dial,
		DisableKeepAlives:     true,
		ResponseHeaderTimeout: stallTimeout,
	}}
	go l.run(ctx)
	return l
}

// dial resolves StreamHost with the cluster's DNS; other hosts are the
// IP addresses of redirects.
func (l *Listener) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if host == StreamHost {
		ip, err := l.c.Resolve(ctx, StreamHost)
		if err != nil {
			return nil, err
		}
		addr = net.JoinHostPort(ip, port)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return DialContext(ctx, ClientsNS, network, addr)
}

func (l *Listener) run(ctx context.Context) {
	defer close(l.done)
	for ctx.Err() == nil {
		err := l.connect(ctx)
		l.mu.Lock()
		l.attempts++
		if err != nil && ctx.Err() == nil {
			l.lastErr = err
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(retryDelay):
		}
	}
}

// connect plays one connection until it ends, stalls or ctx ends.
func (l *Listener) connect(outer context.Context) error {
	ctx, cancel := context.WithCancelCause(outer)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+StreamHost+l.mount, nil)
	if err != nil {
		return err
	}
	resp, err := l.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", l.mount, resp.Status)
	}
	seg := &Segment{Node: resp.Request.URL.Host, Start: time.Now()}
	l.mu.Lock()
	l.segments = append(l.segments, seg)
	l.mu.Unlock()
	watchdog := time.AfterFunc(stallTimeout, func() { cancel(errStalled) })
	defer watchdog.Stop()
	buf := make([]byte, 8192)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			watchdog.Reset(stallTimeout)
			l.record(seg, buf[:n])
		}
		if err != nil {
			if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
				err = cause
			}
			l.end(seg, outer, err)
			return err
		}
	}
}

func (l *Listener) record(seg *Segment, p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.maxStall = max(l.maxStall, now.Sub(l.last))
	l.last = now
	seg.Data = append(seg.Data, p...)
}

var errStalled = fmt.Errorf("no data for %v", stallTimeout)

// end closes a segment. A stream that ends while the listener still runs
// is a drop; one that ends because the listener stopped is not.
func (l *Listener) end(seg *Segment, outer context.Context, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	seg.End = time.Now()
	if outer.Err() == nil {
		seg.Err = err.Error()
	}
}

// Stop ends the listener and returns its segments.
func (l *Listener) Stop() []*Segment {
	l.cancel()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maxStall = max(l.maxStall, time.Since(l.last))
	return l.segments
}

// Bytes is how much the listener received so far.
func (l *Listener) Bytes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.segments {
		n += len(s.Data)
	}
	return n
}

// Node is the host the listener currently plays from ("" before the
// first connection).
func (l *Listener) Node() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.segments) == 0 {
		return ""
	}
	return l.segments[len(l.segments)-1].Node
}

// Drops is how many connections ended while the listener was playing.
func (l *Listener) Drops() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.segments {
		if !s.End.IsZero() && s.Err != "" {
			n++
		}
	}
	return n
}

// MaxStall is the longest time the listener went without data, across
// reconnections, up to now.
func (l *Listener) MaxStall() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(l.maxStall, time.Since(l.last))
}

// ResetStall forgets the stalls so far, to measure from now on.
func (l *Listener) ResetStall() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maxStall, l.last = 0, time.Now()
}

// Resolve asks the cluster's name servers, in order and one second each,
// for name's addresses, and returns the first: the load balancer's choice.
func (c *Cluster) Resolve(ctx context.Context, name string) (string, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeA)
	var lastErr error
	for _, h := range c.Hosts {
		ip, err := query(ctx, q, h.IP)
		if err == nil {
			return ip, nil
		}
		lastErr = err
	}
	return "", fmt.Errorf("resolving %s: %w", name, lastErr)
}

func query(ctx context.Context, q *dns.Msg, server string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := DialContext(ctx, ClientsNS, "udp", net.JoinHostPort(server, "53"))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	co := &dns.Conn{Conn: conn}
	if err := co.WriteMsg(q); err != nil {
		return "", err
	}
	r, err := co.ReadMsg()
	if err != nil {
		return "", err
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String(), nil
		}
	}
	return "", fmt.Errorf("%s: no address (rcode %s)", server, dns.RcodeToString[r.Rcode])
}

// hostOf returns the host named by a listener's node address, or nil.
func (c *Cluster) hostOf(node string) *Host {
	u, err := url.Parse("http://" + node)
	if err != nil {
		return nil
	}
	for _, h := range c.Hosts {
		if h.IP == u.Hostname() {
			return h
		}
	}
	return nil
}

// Mark is a point in a listener's recording, for Since.
type Mark struct{ seg, off int }

// Mark returns the current point of the recording.
func (l *Listener) Mark() Mark {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.segments)
	if n == 0 {
		return Mark{}
	}
	return Mark{n - 1, len(l.segments[n-1].Data)}
}

// Since returns copies of what was received after mark, one per
// connection (the first one may join its stream mid-way).
func (l *Listener) Since(mark Mark) []*Segment {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*Segment
	for i := mark.seg; i < len(l.segments); i++ {
		s := *l.segments[i]
		if i == mark.seg {
			s.Data = s.Data[min(mark.off, len(s.Data)):]
		}
		s.Data = append([]byte(nil), s.Data...)
		out = append(out, &s)
	}
	return out
}
