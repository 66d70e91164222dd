package testenv

import (
	"net"
	"sync"
	"testing"
)

// TCPServer listens on ip, on a port of the system's choice, and runs
// serve for each connection it accepts (nil: it holds the connection and
// never answers, as a host cut off mid-request). accepted gets a value per
// connection. When the test ends the listener and every connection are
// closed.
func TCPServer(t testing.TB, ip string, serve func(net.Conn)) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	acc := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case acc <- struct{}{}:
			default:
			}
			if serve != nil {
				wg.Add(1)
				go func() {
					defer wg.Done()
					serve(c)
				}()
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String(), acc
}
