package splice

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T) (net.Conn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestCopy(t *testing.T) {
	t.Run("buffered bytes first, EOF, counted", func(t *testing.T) {
		srcW, srcR := pair(t)
		dst, dstR := pair(t)
		go func() { srcW.Write([]byte("world")); srcW.Close() }()
		var n atomic.Int64
		src := io.MultiReader(bytes.NewReader([]byte("hello ")), srcR)
		err := Copy(dst, src, srcR, make([]byte, 4), time.Second, time.Second, func(k int) error { n.Add(int64(k)); return nil })
		dst.Close()
		got, _ := io.ReadAll(dstR)
		if !errors.Is(err, io.EOF) || string(got) != "hello world" || n.Load() != 11 {
			t.Errorf("Copy: %v, copied %q, counted %d", err, got, n.Load())
		}
	})
	t.Run("idle source", func(t *testing.T) {
		_, srcR := pair(t)
		dst, _ := pair(t)
		err := Copy(dst, srcR, srcR, make([]byte, 4), 50*time.Millisecond, time.Second, nil)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Copy from an idle source: %v, want a deadline error", err)
		}
	})
	t.Run("count ends it", func(t *testing.T) {
		srcW, srcR := pair(t)
		dst, _ := pair(t)
		srcW.Write([]byte("x"))
		stop := errors.New("stop")
		err := Copy(dst, srcR, srcR, make([]byte, 4), 0, time.Second, func(int) error { return stop })
		if err != stop {
			t.Errorf("Copy: %v, want the error of count", err)
		}
	})
}

type fakeConn struct{ closed *atomic.Int32 }

func (c *fakeConn) Close() { c.closed.Add(1) }

func TestRegistry(t *testing.T) {
	var closed atomic.Int32
	var r Registry[*fakeConn]
	a, b, c := &fakeConn{&closed}, &fakeConn{&closed}, &fakeConn{&closed}
	for _, x := range []*fakeConn{a, b, c} {
		if !r.Add(x) {
			t.Fatal("Add refused before Close")
		}
	}
	if n := r.CloseIf(func(x *fakeConn) bool { return x == a }); n != 1 || closed.Load() != 1 {
		t.Errorf("CloseIf closed %d (%d calls), want 1", n, closed.Load())
	}
	r.Done(a)
	r.Done(b)
	done := make(chan struct{})
	go func() { r.Close(); close(done) }()
	select {
	case <-done:
		t.Fatal("Close returned before c was done")
	case <-time.After(50 * time.Millisecond):
	}
	r.Done(c)
	<-done
	if closed.Load() != 2 {
		t.Errorf("%d Close calls, want 2 (a, then c)", closed.Load())
	}
	if r.Add(&fakeConn{&closed}) {
		t.Error("Add accepted after Close")
	}
}
