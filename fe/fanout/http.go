package fanout

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// HTTPUpstream is an Upstream that requests streams from one fixed
// address (the local Icecast), one connection per request. Unlike
// http.Transport it runs no goroutine per connection and keeps a single
// small read buffer, which matters when every feed holds a connection for
// hours. The request's context closes the connection at once.
type HTTPUpstream struct {
	Addr           string        // host:port
	Prefix         string        // of request paths, before the mount: "" for Icecast
	DialTimeout    time.Duration // bounds connecting
	HeaderTimeout  time.Duration // bounds the response head
	ReadBufferSize int           // of the response head; the body bypasses it
}

// Open requests mount from the upstream.
func (t *HTTPUpstream) Open(ctx context.Context, mount string, icy bool) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://icecast"+t.Prefix+mount, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "autoradio-redirectord")
	if icy {
		req.Header.Set("Icy-MetaData", "1")
	}
	resp, err := t.roundTrip(req)
	if err != nil {
		return nil, err
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
	} else {
		out.Body = resp.Body.(*httpBody)
	}
	return out, nil
}

// roundTrip dials Addr, sends req (its URL host is ignored) and returns
// the response; its Body owns the connection.
func (t *HTTPUpstream) roundTrip(req *http.Request) (*http.Response, error) {
	d := net.Dialer{Timeout: t.DialTimeout}
	conn, err := d.DialContext(req.Context(), "tcp", t.Addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", t.Addr, err)
	}
	stop := context.AfterFunc(req.Context(), func() { conn.Close() })
	resp, err := t.exchange(conn, req)
	if err != nil {
		stop()
		conn.Close()
		return nil, err
	}
	resp.Body = &httpBody{ReadCloser: resp.Body, conn: conn, stop: stop}
	return resp, nil
}

// exchange writes req and reads the response head within HeaderTimeout.
func (t *HTTPUpstream) exchange(conn net.Conn, req *http.Request) (*http.Response, error) {
	conn.SetDeadline(time.Now().Add(t.HeaderTimeout))
	if err := req.Write(conn); err != nil {
		return nil, fmt.Errorf("sending the request to %s: %w", t.Addr, err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, t.ReadBufferSize), req)
	if err != nil {
		return nil, fmt.Errorf("reading the response from %s: %w", t.Addr, err)
	}
	// A live stream may pause; the feed bounds each read instead.
	conn.SetDeadline(time.Time{})
	return resp, nil
}

// httpBody closes the connection with the body.
type httpBody struct {
	io.ReadCloser
	conn net.Conn
	stop func() bool
	once sync.Once
}

func (b *httpBody) SetReadDeadline(t time.Time) error { return b.conn.SetReadDeadline(t) }

func (b *httpBody) Close() error {
	b.once.Do(func() {
		b.stop()
		b.conn.Close()
	})
	return nil
}
