package nscluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// DialContext opens a connection from inside namespace ns, so that the
// test process itself can be a client in the clients namespace without any
// address or route of its own. A socket belongs to the namespace of the
// thread that creates it: the dial runs on a goroutine locked to a thread
// that enters ns and is never unlocked, so that the thread ends with the
// goroutine instead of going back to the pool in the wrong namespace.
// addr must be an IP address and port: names are resolved by the caller,
// with the cluster's DNS.
func DialContext(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	f, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		return nil, fmt.Errorf("nscluster: dial in %s: %w", ns, err)
	}
	defer f.Close()
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, fmt.Errorf("nscluster: setns %s: %w", ns, err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		ch <- result{c, err}
	}()
	r := <-ch
	return r.conn, r.err
}

// Dialer returns DialContext bound to namespace ns, in the shape of
// net.Dialer.DialContext.
func Dialer(ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return DialContext(ctx, ns, network, addr)
	}
}

