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
	status      int
	head        []byte
	contentType string
	connected   atomic.Bool // reading the upstream's stream

	// Owned by the run goroutine: the stream goes from the upstream
	// through demux (Icy feeds), sp and mux (Icy feeds) to the window.
	sp    splicer
	demux *icyDemux // nil: the connection has no Icy metadata
	mux   *icyMux   // nil: the feed has no Icy metadata
	buf   []byte    // read buffer
	out   []byte    // mux's output
	// tap is set while the feed reads a tap (see tap.go); tapTried is
	// when taps were last asked for.
	tap      *tapping
	tapTried time.Time
	since    time.Time // when the feed began to read its upstream
	servedBy string    // the master the upstream last served the mount under

	// Guarded by Fanout.mu.
	listeners int
	readers   int // Readers: keep the feed open, not counted as listeners
	grace     *time.Timer

	window
}

func newFeed(f *Fanout, k feedKey) *feed {
	ctx, cancel := context.WithCancel(f.ctx)
	return &feed{f: f, key: k, mount: k.mount, ctx: ctx, cancel: cancel, ready: make(chan struct{}),
		window: newWindow(f.cfg.chunks(), f.cfg.ChunkSize)}
}

// run connects to the upstream and reads the stream until the feed is
// closed, or until no upstream has served it for the reconnect period.
// The stream comes from the local Icecast, or from another node's while
// the local one does not serve the mount live (see open and move.go);
// the connections follow each other seamlessly for the listeners (see
// splicer).
func (fd *feed) run() {
	defer fd.f.wg.Done()
	defer fd.stop()
	f := fd.f
	f.m.upstreams.Inc()
	defer f.m.upstreams.Dec()
	lost := time.Now()
	avoidLocal := false
	for first := true; ; first = false {
		resp, from, err := fd.open(avoidLocal)
		if first {
			fd.setHead(resp, err)
			if fd.status != http.StatusOK {
				// 404: no source. Listeners get the status.
				f.log.Debug("streaming from the local Icecast", "mount", fd.mount, "status", fd.status, "err", err)
				return
			}
		}
		avoidLocal = from == local
		delay := f.cfg.RetryDelay
		if err == nil && resp.Status == http.StatusOK {
			fd.connect(resp, first)
			began := time.Now()
			from, err = fd.read(resp.Body, from)
			avoidLocal = from == local
			lost = time.Now()
			if lost.Sub(began) >= time.Second {
				delay = 0 // a stream that ends is replaced at once
			}
		}
		if fd.ctx.Err() != nil {
			return
		}
		if time.Since(lost) > f.cfg.Reconnect {
			f.log.Warn("lost the mount's stream", "mount", fd.mount, "err", err)
			return
		}
		f.log.Debug("reconnecting", "mount", fd.mount, "err", err)
		select {
		case <-fd.ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// local is where a feed streams from when it reads the local Icecast;
// otherwise it is the name of the other node it reads.
const local = ""

// open requests the mount: from the local Icecast first when it serves
// the mount live (LocalLive) and did not just fail (avoidLocal), else
// from the other nodes that do (Others), best first, and from the local
// Icecast when none answers. from tells where resp comes from; a failed
// request returns the local Icecast's answer.
func (fd *feed) open(avoidLocal bool) (resp *Response, from string, err error) {
	f := fd.f
	others := f.others(fd.mount)
	localTried := false
	if len(others) == 0 || (!avoidLocal && f.localLive(fd.mount)) {
		resp, err = f.cfg.Upstream.Open(fd.ctx, fd.mount, fd.key.icy)
		if streaming(resp, err) || len(others) == 0 {
			return resp, local, err
		}
		localTried = true
	}
	if r, name := fd.openFirst(fd.ctx, others); r != nil {
		why := "the local Icecast does not serve it live"
		if localTried || avoidLocal {
			why = "the local Icecast failed"
		}
		fd.moved(name, why, false)
		return r, name, nil
	}
	if !localTried {
		resp, err = f.cfg.Upstream.Open(fd.ctx, fd.mount, fd.key.icy)
	}
	return resp, local, err
}

func streaming(resp *Response, err error) bool { return err == nil && resp.Status == http.StatusOK }

func (f *Fanout) localLive(mount string) bool {
	return f.cfg.LocalLive == nil || f.cfg.LocalLive(mount)
}

func (f *Fanout) others(mount string) []Other {
	if f.cfg.Others == nil {
		return nil
	}
	return f.cfg.Others(mount)
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
	fd.contentType = resp.Header.Get("Content-Type")
	kind := kindOf(resp.Header.Get("Content-Type"))
	fd.sp.kind = kind
	metaint := 0
	if n, _ := strconv.Atoi(resp.Header.Get("Icy-MetaInt")); fd.key.icy && n > 0 {
		metaint = n
		fd.mux = newIcyMux(n)
	}
	fd.join = joinerOf(kind, metaint)
}

// connect prepares for the stream of resp: after the first connection,
// its data must be spliced onto what the listeners have; an Icy stream
// is taken apart with its own count.
func (fd *feed) connect(resp *Response, first bool) {
	if !first {
		fd.sp.restart()
	}
	fd.demux = nil
	if n, _ := strconv.Atoi(resp.Header.Get("Icy-MetaInt")); fd.mux != nil && n > 0 {
		fd.demux = newIcyDemux(n)
	}
	if fd.buf == nil {
		fd.buf = make([]byte, fd.f.cfg.ChunkSize)
	}
}

// read copies a stream into the window until it fails, and returns
// where the stream it read last came from. Reads gather at least MinRead
// bytes, so that listeners wake a few times a second rather than for
// every packet; the upstream must send something within ReadTimeout.
// Meanwhile the feed moves, make-before-break, to a better upstream when
// one is due (see move.go), or to a tap when its upstream stalls (see
// tap.go); a stalled upstream that sends again before a tap streams
// stays.
func (fd *feed) read(body Body, from string) (string, error) {
	defer func() { body.Close() }()
	fd.connected.Store(true)
	defer fd.connected.Store(false)
	fd.tap = nil
	f := fd.f
	var p *probe
	defer func() { p.stop() }()
	probed, last := time.Now(), time.Now()
	fd.since = last
	for {
		body.SetReadDeadline(fd.readDeadline(last))
		n, err := io.ReadAtLeast(body, fd.buf, min(len(fd.buf), f.cfg.MinRead))
		if n > 0 {
			fd.take(fd.buf[:n])
			last = time.Now()
			if p != nil && p.stall {
				p.stop()
				p = nil
			}
		}
		if err != nil && !fd.waiting(err, last) {
			return from, err
		}
		if m, done := p.result(); done {
			p = nil
			if m != nil {
				body.Close()
				body, from, last = m.resp.Body, m.to, time.Now()
				fd.since = last
				fd.connect(m.resp, false)
				fd.moved(m.to, m.why, m.tap)
				fd.tap = nil
				if m.tap {
					fd.tap = &tapping{master: m.master}
				}
			}
		}
		if p == nil && time.Since(probed) >= f.cfg.ProbeInterval {
			probed = time.Now()
			if !fd.stalled(last) {
				fd.noteMaster(from)
			}
			p = fd.probe(from, last)
		}
	}
}

// take passes data from the upstream on to the window: the audio through
// the splicer, the titles to the muxer.
func (fd *feed) take(p []byte) {
	if fd.demux != nil {
		fd.demux.split(p, fd.audio, fd.mux.title)
		return
	}
	fd.audio(p)
}

func (fd *feed) audio(p []byte) {
	out, how := fd.sp.take(p, time.Now())
	if how != "" {
		fd.f.m.splices.WithLabelValues(how).Inc()
	}
	if len(out) == 0 {
		return
	}
	if fd.mux != nil {
		fd.out = fd.mux.mux(fd.out[:0], out)
		out = fd.out
	}
	fd.window.write(out)
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
