package fanout

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// An Upstream is where a Fanout gets streams from.
type Upstream interface {
	// Open requests mount, with Icy metadata when icy. The Body of a 200
	// response is the stream; other responses come without one.
	Open(ctx context.Context, mount string, icy bool) (*Response, error)
}

// Response is an Upstream's answer.
type Response struct {
	Status int
	Header http.Header
	Body   Body // nil unless Status is 200
}

// Body is a stream from an Upstream, closed by the Fanout.
type Body interface {
	io.ReadCloser
	// SetReadDeadline bounds the reads to come, like net.Conn's.
	SetReadDeadline(t time.Time) error
}

// A feed is one mount's connection to the upstream and its window of
// recent data.
type feed struct {
	f      *Fanout
	key    feedKey
	mount  string
	ctx    context.Context
	cancel context.CancelFunc

	ready chan struct{} // closed once status and head are set
	// status is the upstream's answer to the first request, or 502 when
	// it could not be reached; head is the response head for listeners.
	status    int
	head      []byte
	icy       bool        // the stream has Icy metadata: it is never reconnected
	connected atomic.Bool // reading the upstream's stream

	// Guarded by Fanout.mu.
	listeners int
	grace     *time.Timer

	window
}

func newFeed(f *Fanout, k feedKey) *feed {
	ctx, cancel := context.WithCancel(f.ctx)
	return &feed{f: f, key: k, mount: k.mount, ctx: ctx, cancel: cancel, ready: make(chan struct{}),
		window: newWindow(f.cfg.chunks(), f.cfg.ChunkSize)}
}

// run connects to the upstream and reads the stream until the feed is
// closed, or until the upstream has been unreachable for the reconnect
// period.
func (fd *feed) run() {
	defer fd.f.wg.Done()
	defer fd.stop()
	f := fd.f
	f.m.upstreams.Inc()
	defer f.m.upstreams.Dec()
	lost := time.Now()
	for first := true; ; first = false {
		resp, err := f.cfg.Upstream.Open(fd.ctx, fd.mount, fd.key.icy)
		if first {
			fd.setHead(resp, err)
			if fd.status != http.StatusOK {
				// 404: no source. Listeners get the status.
				f.log.Debug("streaming from the local Icecast", "mount", fd.mount, "status", fd.status, "err", err)
				return
			}
		}
		if err == nil && resp.Status == http.StatusOK {
			err = fd.read(resp.Body)
			lost = time.Now()
		}
		if fd.ctx.Err() != nil || fd.icy {
			// Icy listeners count metadata intervals from where they
			// joined: a new connection would not keep to them.
			return
		}
		if time.Since(lost) > f.cfg.Reconnect {
			f.log.Warn("lost the local Icecast's stream", "mount", fd.mount, "err", err)
			return
		}
		f.log.Debug("reconnecting to the local Icecast", "mount", fd.mount, "err", err)
		select {
		case <-fd.ctx.Done():
			return
		case <-time.After(f.cfg.RetryDelay):
		}
	}
}

// setHead records the answer to the first request and wakes the
// listeners waiting for it.
func (fd *feed) setHead(resp *Response, err error) {
	defer close(fd.ready)
	if err != nil {
		fd.status = http.StatusBadGateway
		return
	}
	fd.status = resp.Status
	fd.head = responseHead(resp.Header)
	metaint := 0
	if n, _ := strconv.Atoi(resp.Header.Get("Icy-MetaInt")); fd.key.icy && n > 0 {
		metaint, fd.icy = n, true
	}
	fd.join = joinerOf(kindOf(resp.Header.Get("Content-Type")), metaint)
}

// read copies a stream into the window until it fails. Reads gather at
// least MinRead bytes, so that listeners wake a few times a second rather
// than for every packet; the upstream must send something within
// ReadTimeout.
func (fd *feed) read(body Body) error {
	defer body.Close()
	fd.connected.Store(true)
	defer fd.connected.Store(false)
	for {
		buf := fd.space()
		body.SetReadDeadline(time.Now().Add(fd.f.cfg.ReadTimeout))
		n, err := io.ReadAtLeast(body, buf, min(len(buf), fd.f.cfg.MinRead))
		if n > 0 {
			fd.publish(buf[:n])
		}
		if err != nil {
			return err
		}
	}
}

// stop marks the feed as over: listeners finish what is in the window,
// then disconnect.
func (fd *feed) stop() {
	fd.cancel()
	fd.f.forget(fd)
	fd.finish()
}

// start returns where a new listener starts and what it must get first,
// waiting until the window tells.
func (fd *feed) start(ctx context.Context) (int64, []byte, error) {
	return fd.window.start(ctx, fd.f.cfg.Burst)
}

// waitReady waits until fd has the upstream's first answer, or ctx ends.
func (fd *feed) waitReady(ctx context.Context) error {
	select {
	case <-fd.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the local Icecast: %w", ctx.Err())
	}
}
