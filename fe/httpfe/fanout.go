package httpfe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"autoradio"
)

// A fanout shares one connection to the local Icecast per mount among all
// the proxied listeners of that mount. The connection (a feed) opens with
// the first listener and closes a grace period after the last one leaves.
// A feed keeps the recent stream in a window of fixed-size chunks that all
// its listeners write from; each listener has one goroutine and no buffer
// of its own. A listener that falls a whole window behind, or whose writes
// block for longer than the write timeout, is disconnected.
type fanout struct {
	cfg    fanoutConfig
	m      *metrics
	log    *slog.Logger
	ctx    context.Context // ends every feed and listener
	cancel context.CancelFunc
	wg     sync.WaitGroup // feed and listener goroutines

	mu     sync.Mutex
	feeds  map[feedKey]*feed
	total  int // listeners of every mount
	closed bool
}

type fanoutConfig struct {
	upstream     *upstreamTransport
	chunkSize    int           // bytes per window chunk
	chunks       int           // chunks in a window
	burst        int           // bytes sent at once to a new listener
	minRead      int           // bytes read from Icecast before waking listeners
	writeTimeout time.Duration // bound on each write to a listener
	grace        time.Duration // a feed's life after its last listener
	reconnect    time.Duration // how long a lost feed is retried
	retryDelay   time.Duration // pause between reconnections
}

// Errors of fanout.join.
var (
	errFull   = errors.New("too many proxied listeners")
	errClosed = errors.New("shutting down")
)

func newFanout(cfg fanoutConfig, m *metrics, log *slog.Logger) *fanout {
	ctx, cancel := context.WithCancel(context.Background())
	return &fanout{cfg: cfg, m: m, log: log, ctx: ctx, cancel: cancel, feeds: map[feedKey]*feed{}}
}

// A feedKey names a feed: a mount, with Icy metadata (titles inserted
// into the stream, for listeners that ask with Icy-MetaData: 1) or
// without.
type feedKey struct {
	mount string
	icy   bool
}

// join counts one more listener of the feed k, starting it if needed;
// limit (0: none) bounds the listeners of all mounts. Call leave when done.
func (f *fanout) join(k feedKey, limit int) (*feed, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, errClosed
	}
	if limit > 0 && f.total >= limit {
		return nil, errFull
	}
	fd := f.feeds[k]
	if fd == nil {
		fd = newFeed(f, k)
		f.feeds[k] = fd
		f.wg.Add(1)
		go fd.run()
	}
	if fd.grace != nil {
		fd.grace.Stop()
		fd.grace = nil
	}
	fd.listeners++
	f.total++
	return fd, nil
}

// leave counts a listener out of fd, and closes fd after the grace period
// when it was the last.
func (f *fanout) leave(fd *feed) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fd.listeners--
	f.total--
	if fd.listeners == 0 && f.feeds[fd.key] == fd {
		fd.grace = time.AfterFunc(f.cfg.grace, func() { f.expire(fd) })
	}
}

// expire closes fd if it still has no listener.
func (f *fanout) expire(fd *feed) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fd.listeners == 0 && f.feeds[fd.key] == fd {
		delete(f.feeds, fd.key)
		fd.cancel()
	}
}

// forget removes fd from the map once it has ended, so that the next
// listener starts a new feed.
func (f *fanout) forget(fd *feed) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.feeds[fd.key] == fd {
		delete(f.feeds, fd.key)
	}
	if fd.grace != nil {
		fd.grace.Stop()
	}
}

// counts returns the listeners of each mount with a feed.
func (f *fanout) counts() map[string]autoradio.ProxiedMount {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]autoradio.ProxiedMount, len(f.feeds))
	for k, fd := range f.feeds {
		c := out[k.mount]
		c.Listeners += fd.listeners
		if fd.connected.Load() {
			c.Upstreams++
		}
		out[k.mount] = c
	}
	return out
}

// close ends every feed and listener and waits for their goroutines.
func (f *fanout) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
}

// serve streams fd to a hijacked listener connection, in a goroutine of
// its own, after sending head (the response head, then any Ogg headers).
// It calls leave when the listener is gone.
func (f *fanout) serve(fd *feed, conn net.Conn, head net.Buffers, pos int64) {
	f.mu.Lock()
	closed := f.closed
	if !closed {
		f.wg.Add(1) // under the lock, so that close waits for it
	}
	f.mu.Unlock()
	if closed {
		conn.Close()
		f.leave(fd)
		return
	}
	f.m.streams.Inc()
	if tc, ok := conn.(*net.TCPConn); ok {
		// A fixed send buffer, rather than one that grows to megabytes,
		// bounds the kernel's memory per listener, and lets a listener that
		// stops reading block its writes and be noticed.
		tc.SetWriteBuffer(streamSendBuffer)
	}
	go func() {
		defer f.wg.Done()
		defer f.m.streams.Dec()
		defer f.leave(fd)
		defer conn.Close()
		stop := context.AfterFunc(f.ctx, func() { conn.Close() })
		defer stop()
		if err := f.send(fd, conn, head, pos); err != nil && !errors.Is(err, net.ErrClosed) {
			f.log.Debug("proxied listener dropped", "mount", fd.mount, "err", err)
		}
	}()
}

// errSlow is why a slow listener is disconnected.
var errSlow = errors.New("listener too slow: fell behind the stream window")

// send writes head, then the stream from pos, until an error.
func (f *fanout) send(fd *feed, conn net.Conn, head net.Buffers, pos int64) error {
	conn.SetWriteDeadline(time.Now().Add(f.cfg.writeTimeout))
	if _, err := head.WriteTo(conn); err != nil {
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
		conn.SetWriteDeadline(time.Now().Add(f.cfg.writeTimeout))
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

// A feed is one mount's connection to the local Icecast and its window of
// recent data.
type feed struct {
	f      *fanout
	key    feedKey
	mount  string
	ctx    context.Context
	cancel context.CancelFunc

	ready chan struct{} // closed once status and head are set
	// status is Icecast's answer to the first request, or 502 when it
	// could not be reached; head is the response head for listeners.
	status    int
	head      []byte
	kind      streamKind
	connected atomic.Bool // reading Icecast's stream

	// Guarded by fanout.mu.
	listeners int
	grace     *time.Timer

	mu     sync.RWMutex  // read-locked by listeners, locked by run
	window [][]byte      // chunk k at window[k % len(window)]
	base   int64         // the oldest position still in the window
	end    int64         // bytes received so far
	wake   chan struct{} // closed when data arrives or the feed ends
	done   bool          // no more data will come
	ogg    oggTracker
	icy    icyTracker
}

func newFeed(f *fanout, k feedKey) *feed {
	ctx, cancel := context.WithCancel(f.ctx)
	return &feed{f: f, key: k, mount: k.mount, ctx: ctx, cancel: cancel, ready: make(chan struct{}),
		window: make([][]byte, f.cfg.chunks), wake: make(chan struct{})}
}

// run connects to Icecast and reads the stream until the feed is closed,
// or until Icecast has been unreachable for the reconnect period.
func (fd *feed) run() {
	defer fd.f.wg.Done()
	defer fd.finish()
	f := fd.f
	f.m.upstreams.Inc()
	defer f.m.upstreams.Dec()
	lost := time.Now()
	for first := true; ; first = false {
		resp, err := fd.connect()
		if first {
			fd.setHead(resp, err)
			if fd.status != http.StatusOK {
				// 404: no source. Listeners get the status.
				f.log.Debug("streaming from the local Icecast", "mount", fd.mount, "status", fd.status, "err", err)
				return
			}
		}
		if err == nil && resp.StatusCode == http.StatusOK {
			err = fd.read(resp)
			lost = time.Now()
		}
		if fd.ctx.Err() != nil || fd.kind == kindIcy {
			// Icy listeners count metadata intervals from where they
			// joined: a new connection would not keep to them.
			return
		}
		if time.Since(lost) > f.cfg.reconnect {
			f.log.Warn("lost the local Icecast's stream", "mount", fd.mount, "err", err)
			return
		}
		f.log.Debug("reconnecting to the local Icecast", "mount", fd.mount, "err", err)
		select {
		case <-fd.ctx.Done():
			return
		case <-time.After(f.cfg.retryDelay):
		}
	}
}

// connect requests the mount from Icecast. A non-200 answer is returned
// with its body closed.
func (fd *feed) connect() (*http.Response, error) {
	req, err := http.NewRequestWithContext(fd.ctx, http.MethodGet, "http://icecast"+fd.mount, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "autoradio-redirectord")
	if fd.key.icy {
		req.Header.Set("Icy-MetaData", "1")
	}
	resp, err := fd.f.cfg.upstream.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
	}
	return resp, nil
}

// setHead records the answer to the first request and wakes the
// listeners waiting for it.
func (fd *feed) setHead(resp *http.Response, err error) {
	defer close(fd.ready)
	if err != nil {
		fd.status = http.StatusBadGateway
		return
	}
	fd.status = resp.StatusCode
	fd.head = responseHead(resp.Header)
	fd.kind = kindOf(resp.Header.Get("Content-Type"))
	if n, _ := strconv.Atoi(resp.Header.Get("Icy-MetaInt")); fd.key.icy && n > 0 {
		fd.kind, fd.icy = kindIcy, newIcyTracker(n)
	}
}

// Response headers passed from Icecast to listeners (lower case), besides
// the Icy-* and Ice-* headers.
var streamResponseHeaders = []string{"content-type", "cache-control", "expires", "pragma"}

// responseHead is the head of listeners' responses: HTTP/1.0 like
// Icecast's own, the headers players use, CORS, and no keep-alive.
func responseHead(h http.Header) []byte {
	out := http.Header{}
	for k, v := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "icy-") || strings.HasPrefix(lk, "ice-") || slices.Contains(streamResponseHeaders, lk) {
			out[k] = v
		}
	}
	setCORS(out)
	out.Set("Connection", "close")
	var b strings.Builder
	b.WriteString("HTTP/1.0 200 OK\r\n")
	out.Write(&b)
	b.WriteString("\r\n")
	return []byte(b.String())
}

// read copies a response body into the window until it fails. Reads
// gather at least minRead bytes, so that listeners wake a few times a
// second rather than for every packet; Icecast must send something within
// the header timeout.
func (fd *feed) read(resp *http.Response) error {
	defer resp.Body.Close()
	fd.connected.Store(true)
	defer fd.connected.Store(false)
	body := resp.Body.(*upstreamBody)
	for {
		buf := fd.space()
		body.conn.SetReadDeadline(time.Now().Add(fd.f.cfg.upstream.headerTimeout))
		n, err := io.ReadAtLeast(body, buf, min(len(buf), fd.f.cfg.minRead))
		if n > 0 {
			fd.publish(buf[:n])
		}
		if err != nil {
			return err
		}
	}
}

// space returns the free part of the current chunk, starting a new chunk
// (and dropping the oldest) when it is full. Listeners never read past
// end, so the feed writes there without the lock.
func (fd *feed) space() []byte {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	cs := int64(fd.f.cfg.chunkSize)
	k := fd.end / cs
	if fd.end%cs == 0 {
		// Listeners still writing from the chunk this replaces keep it
		// alive until they are done; it is never written again.
		fd.window[k%int64(len(fd.window))] = make([]byte, cs)
		fd.base = max(0, k-int64(len(fd.window))+1) * cs
	}
	return fd.window[k%int64(len(fd.window))][fd.end%cs:]
}

// publish makes p, just read into the window, visible to listeners.
func (fd *feed) publish(p []byte) {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	switch fd.kind {
	case kindOgg:
		fd.ogg.observe(p, fd.end, fd.base)
	case kindIcy:
		fd.icy.observe(p, fd.end, fd.base)
	}
	fd.end += int64(len(p))
	close(fd.wake)
	fd.wake = make(chan struct{})
}

// finish marks the feed as over: listeners finish what is in the window,
// then disconnect.
func (fd *feed) finish() {
	fd.cancel()
	fd.f.forget(fd)
	fd.mu.Lock()
	defer fd.mu.Unlock()
	fd.done = true
	close(fd.wake)
}

// next returns the data after pos, waiting for some; errSlow when pos has
// left the window, io.EOF when the feed is over.
func (fd *feed) next(ctx context.Context, pos int64) ([]byte, error) {
	for {
		fd.mu.RLock()
		if pos < fd.base {
			fd.mu.RUnlock()
			return nil, errSlow
		}
		if pos < fd.end {
			cs := int64(fd.f.cfg.chunkSize)
			k := pos / cs
			c := fd.window[k%int64(len(fd.window))]
			lim := min(fd.end, (k+1)*cs)
			fd.mu.RUnlock()
			return c[pos-k*cs : lim-k*cs], nil
		}
		done, wake := fd.done, fd.wake
		fd.mu.RUnlock()
		if done {
			return nil, io.EOF
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// start returns where a new listener starts and the Ogg header pages it
// must get first: about burst bytes back, at an Ogg page or MP3 frame
// boundary.
func (fd *feed) start() (int64, []byte) {
	fd.mu.RLock()
	defer fd.mu.RUnlock()
	from := max(fd.base, fd.end-int64(fd.f.cfg.burst))
	switch fd.kind {
	case kindOgg:
		return fd.ogg.joinPoint(from, fd.base)
	case kindMP3:
		return fd.mp3Sync(from), nil
	case kindIcy:
		return fd.icy.joinPoint(from, fd.base), nil
	}
	return from, nil
}

// byteAt returns the byte at pos, which must be in the window.
func (fd *feed) byteAt(pos int64) byte {
	cs := int64(fd.f.cfg.chunkSize)
	return fd.window[(pos/cs)%int64(len(fd.window))][pos%cs]
}

// mp3MaxScan bounds the search for a frame: two of the longest MP3 frames
// (1,441 bytes) fit in it.
const mp3MaxScan = 4 << 10

// mp3Sync returns the first MP3 frame start at or after from that is
// followed by another frame, or from when none is found within mp3MaxScan.
func (fd *feed) mp3Sync(from int64) int64 {
	var hdr [4]byte
	at := func(p int64) ([4]byte, bool) {
		if p+4 > fd.end {
			return hdr, false
		}
		for i := range hdr {
			hdr[i] = fd.byteAt(p + int64(i))
		}
		return hdr, true
	}
	for p := from; p+4 <= fd.end && p < from+mp3MaxScan; p++ {
		h, _ := at(p)
		n := mp3FrameLen(h)
		if n == 0 {
			continue
		}
		if h2, ok := at(p + int64(n)); ok && mp3FrameLen(h2) > 0 && h2[1] == h[1] {
			return p
		}
	}
	return from
}

// waitReady waits until fd has Icecast's first answer, or ctx ends.
func (fd *feed) waitReady(ctx context.Context) error {
	select {
	case <-fd.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the local Icecast: %w", ctx.Err())
	}
}
