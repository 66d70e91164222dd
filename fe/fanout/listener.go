package fanout

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// A StatusError is why Serve could not stream: the status code to answer
// with, and the cause when there is one.
type StatusError struct {
	Code int
	Err  error
}

func (e *StatusError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("upstream answered %d", e.Code)
	}
	return fmt.Sprintf("%d: %v", e.Code, e.Err)
}

func (e *StatusError) Unwrap() error { return e.Err }

// Serve streams mount to the listener that sent r, which asks for Icy
// metadata with Icy-MetaData: 1; limit (0: none) bounds the listeners of
// all mounts. Once the mount's upstream has answered 200, Serve hijacks the
// connection and owns it until the listener leaves: it answers a HEAD
// request itself, and streams to a GET in a goroutine of the Fanout. It
// returns nil then, having answered 200.
//
// Otherwise nothing has been written, and the error says what to answer:
// ErrFull or ErrClosed (the service is unavailable), a *StatusError, or
// another error when the listener left while waiting (nothing to answer).
func (f *Fanout) Serve(w http.ResponseWriter, r *http.Request, mount string, limit int) error {
	fd, err := f.join(feedKey{mount: mount, icy: r.Header.Get("Icy-MetaData") == "1"}, limit)
	if err != nil {
		return err
	}
	conn, err := f.accept(fd, w, r)
	if err != nil {
		f.leave(fd)
		return err
	}
	if r.Method == http.MethodHead {
		defer f.leave(fd)
		conn.SetWriteDeadline(time.Now().Add(f.cfg.HeadTimeout))
		conn.Write(fd.head)
		conn.Close()
		return nil
	}
	f.stream(fd, conn)
	return nil
}

// accept waits for fd's first answer from upstream and, when it is 200,
// hijacks the listener's connection.
func (f *Fanout) accept(fd *feed, w http.ResponseWriter, r *http.Request) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(r.Context(), f.cfg.ReadyTimeout)
	defer cancel()
	if err := fd.waitReady(ctx); err != nil {
		if r.Context().Err() != nil {
			return nil, err // the listener left
		}
		return nil, &StatusError{Code: http.StatusGatewayTimeout, Err: err}
	}
	if fd.status != http.StatusOK {
		return nil, &StatusError{Code: fd.status}
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, &StatusError{Code: http.StatusInternalServerError, Err: err}
	}
	return conn, nil
}

// stream streams fd to a hijacked listener connection, in a goroutine of
// its own. It calls leave when the listener is gone.
func (f *Fanout) stream(fd *feed, conn net.Conn) {
	f.mu.Lock()
	closed := f.closed
	if !closed {
		f.wg.Add(1) // under the lock, so that Close waits for it
	}
	f.mu.Unlock()
	if closed {
		conn.Close()
		f.leave(fd)
		return
	}
	f.m.streams.Inc()
	raw := conn
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		raw = tc.NetConn() // under TLS
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		// A fixed send buffer, rather than one that grows to megabytes,
		// bounds the kernel's memory per listener, and lets a listener that
		// stops reading block its writes and be noticed.
		tc.SetWriteBuffer(f.cfg.SendBuffer)
	}
	go func() {
		defer f.wg.Done()
		defer f.m.streams.Dec()
		defer f.leave(fd)
		defer conn.Close()
		stop := context.AfterFunc(f.ctx, func() { conn.Close() })
		defer stop()
		if err := f.send(fd, conn); err != nil && !errors.Is(err, net.ErrClosed) {
			f.log.Debug("proxied listener dropped", "mount", fd.mount, "err", err)
		}
	}()
}

// errSlow is why a slow listener is disconnected.
var errSlow = errors.New("listener too slow: fell behind the stream window")

// send writes the response head at once, then what the listener must get
// first (Ogg header pages, an Icy block with the title) and the stream from
// where it joins, until an error. A feed's first listener waits there for
// the stream's first join point, as its first bytes need not be one.
func (f *Fanout) send(fd *feed, conn net.Conn) error {
	conn.SetWriteDeadline(time.Now().Add(f.cfg.WriteTimeout))
	if _, err := conn.Write(fd.head); err != nil {
		return err
	}
	pos, first, err := fd.start(f.ctx)
	if err != nil {
		return err
	}
	conn.SetWriteDeadline(time.Now().Add(f.cfg.WriteTimeout))
	if _, err := conn.Write(first); err != nil {
		return err
	}
	for {
		data, err := fd.next(f.ctx, pos)
		if err != nil {
			if errors.Is(err, errSlow) {
				f.m.slowListeners.Inc()
			}
			return err
		}
		conn.SetWriteDeadline(time.Now().Add(f.cfg.WriteTimeout))
		n, err := conn.Write(data)
		pos += int64(n)
		f.m.streamBytes.Add(float64(n))
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				f.m.slowListeners.Inc()
			}
			return err
		}
	}
}

// StatusCode is the status code to answer with.
func (e *StatusError) StatusCode() int { return e.Code }
