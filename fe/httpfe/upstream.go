package httpfe

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

// upstreamTransport is a RoundTripper for one-shot streaming requests to
// one fixed address (the local Icecast). Unlike http.Transport it runs no
// goroutine per connection and keeps a single small read buffer, which
// matters when every listener holds a connection for hours. The request's
// context closes the connection at once when the listener goes away.
type upstreamTransport struct {
	addr           string
	dialTimeout    time.Duration
	headerTimeout  time.Duration
	readBufferSize int
}

// RoundTrip dials addr, sends req (its URL host is ignored) and returns the
// response; its Body owns the connection.
func (t *upstreamTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	d := net.Dialer{Timeout: t.dialTimeout}
	conn, err := d.DialContext(req.Context(), "tcp", t.addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", t.addr, err)
	}
	stop := context.AfterFunc(req.Context(), func() { conn.Close() })
	resp, err := t.exchange(conn, req)
	if err != nil {
		stop()
		conn.Close()
		return nil, err
	}
	resp.Body = &upstreamBody{ReadCloser: resp.Body, conn: conn, stop: stop}
	return resp, nil
}

// exchange writes req and reads the response head within headerTimeout.
func (t *upstreamTransport) exchange(conn net.Conn, req *http.Request) (*http.Response, error) {
	conn.SetDeadline(time.Now().Add(t.headerTimeout))
	if err := req.Write(conn); err != nil {
		return nil, fmt.Errorf("sending the request to %s: %w", t.addr, err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, t.readBufferSize), req)
	if err != nil {
		return nil, fmt.Errorf("reading the response from %s: %w", t.addr, err)
	}
	// A live stream may pause; the listener's context bounds it instead.
	conn.SetDeadline(time.Time{})
	return resp, nil
}

// upstreamBody closes the connection with the body.
type upstreamBody struct {
	io.ReadCloser
	conn net.Conn
	stop func() bool
	once sync.Once
}

func (b *upstreamBody) Close() error {
	b.once.Do(func() {
		b.stop()
		b.conn.Close()
	})
	return nil
}
