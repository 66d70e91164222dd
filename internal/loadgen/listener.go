package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// listener is one simulated player. Its counters are read by the run while
// its goroutine updates them.
type listener struct {
	bytes     atomic.Int64
	firstByte atomic.Int64 // unix ns of the current stream's first byte
	everUp    atomic.Bool
	up        atomic.Bool
}

var errStreamEnded = errors.New("stream ended")

// listen keeps l listening until ctx ends: it connects (retrying a
// failed attempt up to cfg.Retries times) and reads, and connects again
// after a disconnect if cfg.Reconnect.
func (r *runner) listen(ctx context.Context, l *listener) {
	failures := 0
	for ctx.Err() == nil {
		streamed, err := r.stream(ctx, l)
		if ctx.Err() != nil {
			return
		}
		if streamed {
			r.disconnects.Add(1)
			if !r.cfg.Reconnect {
				return
			}
			failures = 0
			continue
		}
		r.noteError(err)
		if failures++; failures > r.cfg.Retries {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(retryDelay):
		}
	}
}

// stream makes one connection and reads it until it ends. streamed tells
// whether any body byte came.
func (r *runner) stream(ctx context.Context, l *listener) (streamed bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.URL, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("User-Agent", "radiobench")
	start := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %s", resp.Status)
	}
	buf := make([]byte, r.cfg.BufferSize)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if !streamed {
				streamed = true
				r.noteFirstByte(time.Since(start))
				l.firstByte.Store(time.Now().UnixNano())
				l.everUp.Store(true)
				l.up.Store(true)
			}
			l.bytes.Add(int64(n))
		}
		if err != nil {
			l.up.Store(false)
			if err == io.EOF {
				err = errStreamEnded
			}
			return streamed, err
		}
	}
}

// newClient is the HTTP client all listeners share: one connection per
// listener (a stream never returns its connection), a deadline on every
// read so that a stalled stream ends.
func newClient(cfg Config) *http.Client {
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &idleConn{Conn: c, idle: cfg.IdleTimeout}, nil
		},
		TLSClientConfig:       cfg.TLS,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.ConnectTimeout,
		DisableCompression:    true,
		MaxIdleConnsPerHost:   16,
		ReadBufferSize:        cfg.BufferSize,
		WriteBufferSize:       1024,
	}
	c := &http.Client{Transport: tr}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !cfg.FollowRedirects {
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		return nil
	}
	return c
}

// idleConn fails a read that waits longer than idle.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}
