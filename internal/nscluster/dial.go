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
// thread that creates it: the dial runs on a goroutine locked to its
// thread, which enters ns, creates the socket and goes back to its own
// namespace before it is unlocked. If it cannot go back, the goroutine
// ends still locked and Go retires the thread.
// addr must be an IP address and port: names are resolved by the caller,
// with the cluster's DNS.
func DialContext(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	target, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		return nil, fmt.Errorf("nscluster: dial in %s: %w", ns, err)
	}
	defer target.Close()
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		own, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, fmt.Errorf("nscluster: own namespace: %w", err)}
			return
		}
		defer own.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, fmt.Errorf("nscluster: setns %s: %w", ns, err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if unix.Setns(int(own.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
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
