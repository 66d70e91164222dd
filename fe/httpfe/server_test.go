package httpfe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"autoradio/internal/testenv"
)

// TestSlowHeadersCutOff sends a request's headers one byte every 300 ms
// (not a divisor of the timeout, so that no byte arrives as the server
// closes, which would reset the connection): the server must drop the
// connection at ReadHeaderTimeout.
func TestSlowHeadersCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a second")
	}
	const timeout = time.Second
	s, _ := startServer(t, Config{ReadHeaderTimeout: timeout}, testCluster())
	conn := dialFE(t, s.Addr().String())
	ctx := testenv.Context(t, 10*time.Second)
	// Go's server may answer 400 before closing; what matters is when.
	closed := make(chan error, 1)
	go func() {
		answer, err := io.ReadAll(conn)
		if err == nil && len(answer) > 0 && !strings.HasPrefix(string(answer), "HTTP/1.1 400 ") {
			err = fmt.Errorf("answered %q", answer)
		}
		closed <- err
	}()
	req := "GET /live.ogg HTTP/1.1\r\nHost: radio.example.com\r\nUser-Agent: slowloris\r\n\r\n"
	start := time.Now()
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case err := <-closed:
			elapsed := time.Since(start)
			if err != nil || i >= len(req) {
				t.Fatalf("connection ended with %v after %d bytes, want a close before the headers end", err, i)
			}
			// Not before its time; eventually (the context's bound).
			if elapsed < timeout-100*time.Millisecond {
				t.Errorf("cut off after %v, before the %v timeout", elapsed, timeout)
			}
			t.Logf("cut off after %v and %d of %d header bytes (%v)", elapsed, i, len(req), err)
			return
		case <-ctx.Done():
			t.Fatal("the connection was never cut off")
		case <-tick.C:
			if i < len(req) {
				conn.Write([]byte{req[i]})
			}
		}
	}
}

// TestConcurrentRedirects sends 1,000 concurrent listeners, each on its own
// connection, to the real server on loopback.
func TestConcurrentRedirects(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,000 connections")
	}
	const n = 1000
	s, reg := startServer(t, Config{}, testCluster())
	ctx := testenv.Context(t, 30*time.Second)
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil, MaxConnsPerHost: 0}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	url := "http://" + s.Addr().String() + "/live.ogg"
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- redirectOnce(ctx, client, url)
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			if failed == 0 {
				t.Error(err)
			}
			failed++
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d redirects failed", failed, n)
	}
	if v := metricValue(t, reg, "autoradio_http_requests_total", "kind", "redirect", "code", "302"); v != n {
		t.Errorf("counted %v redirects, want %d", v, n)
	}
	t.Logf("%d concurrent redirects (one connection each) in %v", n, elapsed)
}

func redirectOnce(ctx context.Context, client *http.Client, url string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") == "" {
		return errors.New("redirect: " + resp.Status)
	}
	return nil
}

// A request that announces a body and never sends it gets its answer and
// then loses its connection, instead of holding it for ever: net/http
// would otherwise wait for the body to reuse the connection.
func TestAnnouncedBodyNeverSent(t *testing.T) {
	s, _ := startServer(t, Config{}, testCluster())
	for _, tc := range []struct {
		name, req, status string
	}{
		{"GET with a body", "GET /live.ogg HTTP/1.1\r\nHost: radio.example.com\r\nContent-Length: 1000\r\n\r\n", "413"},
		{"PUT to an unknown mount", "PUT /nope.ogg HTTP/1.1\r\nHost: radio.example.com\r\nContent-Type: audio/mpeg\r\nContent-Length: 10\r\n\r\n", "404"},
		{"chunked POST", "POST / HTTP/1.1\r\nHost: radio.example.com\r\nTransfer-Encoding: chunked\r\n\r\n", "413"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := dialFE(t, s.Addr().String())
			// A generous bound: the server closes at once, but what is
			// asserted is that it closes at all.
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := io.WriteString(conn, tc.req); err != nil {
				t.Fatal(err)
			}
			answer, err := io.ReadAll(conn)
			if err != nil {
				t.Fatalf("connection not closed: %v (read %q)", err, answer)
			}
			if !strings.HasPrefix(string(answer), "HTTP/1.1 "+tc.status+" ") {
				t.Errorf("answer %q, want %s", answer, tc.status)
			}
		})
	}
}

// The front-end is no proxy: CONNECT is refused, and a request in absolute
// form is routed by its path alone, whatever host it names.
func TestNoOpenProxy(t *testing.T) {
	s, _ := startServer(t, Config{}, testCluster())
	for _, tc := range []struct{ req, status string }{
		{"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", "405"},
		{"GET http://127.0.0.1:1/elsewhere HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", "404"},
		{"GET http://127.0.0.1:1/_stream/elsewhere.mp3 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", "404"},
	} {
		conn := dialFE(t, s.Addr().String())
		conn.SetDeadline(time.Now().Add(testenv.Bound(10 * time.Second)))
		if _, err := io.WriteString(conn, tc.req); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 "+tc.status+" ") {
			t.Errorf("%q: answer %q, %v; want %s", strings.SplitN(tc.req, "\r\n", 2)[0], line, err, tc.status)
		}
	}
}

// Requests whose length could be read two ways are refused, so that
// nothing can be smuggled past the front-end to an Icecast behind it.
// (With both Content-Length and chunked, Go's server drops the length, as
// RFC 9112 says, and the head forwarded to Icecast has only the one.)
func TestSmugglingShapesRefused(t *testing.T) {
	s, _ := startServer(t, Config{}, testCluster())
	for _, req := range []string{
		"PUT /live.ogg HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
		"PUT /live.ogg HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	} {
		conn := dialFE(t, s.Addr().String())
		conn.SetDeadline(time.Now().Add(testenv.Bound(10 * time.Second)))
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 400 ") && !strings.HasPrefix(line, "HTTP/1.1 501 ") {
			t.Errorf("%q: answer %q, %v; want 400 or 501", req, line, err)
		}
	}
}
