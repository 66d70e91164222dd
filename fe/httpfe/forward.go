package httpfe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"autoradio/fe/tap"
	"autoradio/internal/audioframe"
	"autoradio/internal/splice"
)

// halfCloseGrace is how long one direction of a forwarded source may go on
// after the other has ended.
const halfCloseGrace = 5 * time.Second

// masterCheckInterval is how often a forwarded source checks that its
// Icecast is still the master's.
const masterCheckInterval = 250 * time.Millisecond

// errDeposed ends a source forwarded to a node that is no longer master,
// when the source cannot be moved to the new one (see forward.resume).
var errDeposed = errors.New("the master changed")

// Reasons to move a source to the master of the moment, the "reason"
// label of autoradio_source_reconnects_total.
const (
	reconnectMaster = "master_changed" // another node was elected master
	reconnectLost   = "icecast_lost"   // the master's Icecast closed the connection
	reconnectWrite  = "write_failed"   // writing to the master's Icecast failed or timed out
)

// A forward is a source forwarded to the master: it joins a hijacked
// source connection to a connection to the master's Icecast. The source's
// side runs until its EOF or an error; EOF is passed on as a half-close,
// and Icecast then gets halfCloseGrace to finish. Once Icecast has
// accepted the source, the source outlives its Icecast: when the master
// changes, or its Icecast goes away, the forward holds what the source
// sends (a backlog) and moves it to the master of the moment (resume),
// replaying the backlog from a point where a decoder can start. When the
// master changed, the deposed master's Icecast is still fed meanwhile,
// and after the move until it lets go (see tee).
type forward struct {
	client   net.Conn
	clientIn *bufio.Reader // holds bytes the server read past the headers
	chunked  bool          // the source's body is chunked: Icecast gets it de-chunked
	idle     time.Duration // source → Icecast inactivity limit
	respWait time.Duration // wait for Icecast's response headers, and limit on each write to it
	// elected returns the name of the master of the moment; false
	// while none is known (an election under way). It tells when the
	// Icecast of fw.master is no longer the master's: nothing else would
	// when the old master is cut off, as the kernel buffers minutes of a
	// stream.
	elected func() (string, bool)
	master  string // the name of the current Icecast's node
	// resume connects to the master of the moment and has it accept the
	// source again, trying for as long as it is allowed to; nil: a source
	// whose Icecast is deposed or lost is ended, and must reconnect.
	resume func(ctx context.Context) (*upstream, error)
	// teeFor is how long the deposed master's Icecast is still fed
	// after the source moved (see tee); 0: it is closed at once.
	teeFor  time.Duration
	backlog backlogLimits
	bufs    *bufferPool
	m       *metrics
	log     *slog.Logger
	// onResponse is called with Icecast's final status code (0: none) as
	// soon as it is known.
	onResponse func(code int)
	// taps, when set, gets the source's bytes once Icecast accepted it,
	// in tap, for the fan-outs to stream while no Icecast serves the
	// mount live (package fe/tap); mount and contentType name them.
	taps        *tap.Set
	tap         *tap.Tap
	mount       string
	contentType string
	sent        atomic.Int64 // source bytes forwarded to Icecast
	accepted    atomic.Bool  // the first Icecast accepted the source (2xx)
	scan        audioframe.Scanner

	mu     sync.Mutex
	up     net.Conn // the current Icecast; nil while the source is held
	old    net.Conn // a tee's Icecast, the deposed master's; nil without
	closed bool

	ctx     context.Context // ends with Close: stops a resume under way
	cancel  context.CancelFunc
	lost    chan net.Conn     // Icecast connections that ended on their own
	resumed chan resumeResult // the outcome of a resume
	wg      sync.WaitGroup    // goroutines reading Icecast, resuming
	ending  sync.Once         // starting the grace timer
	grace   *time.Timer       // closes both when the grace period is over
}

// A resumeResult is a new Icecast connection that accepted the source,
// or why there is none.
type resumeResult struct {
	up  *upstream
	err error
}

// init prepares fw to forward to up.
func (fw *forward) init(up *upstream) {
	fw.up, fw.master = up.conn, up.master.Name
	fw.ctx, fw.cancel = context.WithCancel(context.Background())
	fw.lost = make(chan net.Conn, 4)
	fw.resumed = make(chan resumeResult, 1)
}

// run passes up's response head to the source and forwards until the
// source is done, closes both connections and returns Icecast's first
// final status code (0 if none) and what ended the source's side (nil:
// its end of stream).
func (fw *forward) run(up *upstream) (int, error) {
	codec := make(chan int, 1)
	fw.wg.Add(1)
	go func() {
		defer fw.wg.Done()
		fw.upstreamToClient(up, codec)
	}()
	err := fw.sourceToUpstream()
	if err != nil {
		fw.Close()
	}
	fw.cancel()
	fw.wg.Wait()
	fw.Close()
	select {
	case r := <-fw.resumed:
		if r.up != nil {
			r.up.conn.Close()
		}
	default:
	}
	if fw.grace != nil {
		fw.grace.Stop()
	}
	return <-codec, err
}

// sourceToUpstream copies the source's bytes, those already buffered first,
// to Icecast (de-chunked when chunked), holding them while the source
// moves to another Icecast, and returns what ended it (nil: the source's
// end of stream).
func (fw *forward) sourceToUpstream() error {
	buf := fw.bufs.Get()
	defer fw.bufs.Put(buf)
	n := fw.clientIn.Buffered()
	var src io.Reader = io.MultiReader(io.LimitReader(fw.clientIn, int64(n)), fw.client)
	if fw.chunked {
		src = newDechunker(src)
	}
	fw.clientIn = nil
	up := fw.current()
	var held *backlog     // non-nil while the source is held
	var pending *upstream // the Icecast that accepted a held source
	var old *tee          // the deposed master's Icecast, still fed
	defer func() {
		if pending != nil {
			pending.conn.Close()
		}
		fw.endTee(old, teeSourceEnded)
		fw.tap.Close()
	}()
	var pos int64 // source bytes read
	var checked time.Time
	for {
		if fw.idle > 0 {
			fw.client.SetReadDeadline(time.Now().Add(fw.idle))
		}
		n, rerr := src.Read(buf)
		points := fw.scan.Scan(buf[:n])
		switch {
		case held != nil:
			fw.m.sourceDropped.Add(float64(held.add(buf[:n], points)))
		case n > 0:
			if werr := fw.write(up, buf[:n]); werr != nil {
				if !fw.resumable() {
					return werr
				}
				held = fw.hold(up, reconnectWrite, pos)
				fw.m.sourceDropped.Add(float64(held.add(buf[:n], points)))
			}
		}
		old = fw.feedTee(old, buf[:n])
		fw.feedTap(pos, buf[:n], points)
		pos += int64(n)
		// While held, the lost connections wait: one may be the Icecast
		// the source moves to. A tee's write fails once its Icecast
		// has closed it.
		var upLost, oldLost bool
		if held == nil {
			upLost, oldLost = fw.lostConns(up, old.teeConn())
		}
		old = fw.checkTee(old, oldLost)
		if upLost {
			held = fw.hold(up, reconnectLost, pos)
		}
		if time.Since(checked) >= masterCheckInterval {
			checked = time.Now()
			switch {
			case held == nil && fw.deposed(fw.master):
				if !fw.resumable() {
					return errDeposed
				}
				if fw.teeFor > 0 {
					// Make before break: the deposed master's Icecast
					// is fed on while the source moves.
					fw.endTee(old, teeMasterChanged)
					old = fw.startTee(up)
					up = nil
				}
				held = fw.hold(up, reconnectMaster, pos)
			case held != nil && old != nil && old.moved.IsZero() && fw.reelected(old.oldMaster):
				// The old master is master again before the source
				// moved: its Icecast, which refuses the source while
				// the tee holds the mount, must take it back.
				fw.endTee(old, teeMasterChanged)
				old = nil
			}
		}
		if held != nil && pending == nil {
			select {
			case r := <-fw.resumed:
				if r.err != nil {
					return r.err
				}
				pending = r.up
			default:
			}
		}
		if pending != nil && held.ready() {
			up, fw.master = pending.conn, pending.master.Name
			err := fw.replay(pending, held)
			pending, held = nil, nil
			if err != nil {
				held = fw.hold(up, reconnectWrite, pos)
			} else {
				fw.teeMoved(old, fw.master)
			}
		}
		if rerr != nil {
			return fw.sourceEnded(rerr, up, held)
		}
	}
}

// sourceEnded ends the source's side: its EOF is passed on to Icecast as
// a half-close; while held, or on an error, both connections are closed.
func (fw *forward) sourceEnded(err error, up net.Conn, held *backlog) error {
	if held != nil {
		fw.m.sourceDropped.Add(float64(len(held.data)))
		fw.Close()
	} else {
		fw.finish(err, up)
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// write writes p to Icecast, within respWait.
func (fw *forward) write(up net.Conn, p []byte) error {
	up.SetWriteDeadline(deadline(fw.respWait))
	n, err := up.Write(p)
	fw.sent.Add(int64(n))
	fw.m.sourceBytes.Add(float64(n))
	return err
}

// deposed reports that the Icecast of master is no longer the
// master's; an unknown master (an election under way) deposes no one.
func (fw *forward) deposed(master string) bool {
	if fw.elected == nil {
		return false
	}
	m, ok := fw.elected()
	return ok && m != master
}

// reelected reports that master is the master of the moment.
func (fw *forward) reelected(master string) bool {
	if fw.elected == nil {
		return false
	}
	m, ok := fw.elected()
	return ok && m == master
}

// resumable reports whether a source whose Icecast is deposed or lost
// can move to another: it was accepted, and its format has points where
// a decoder can join it.
func (fw *forward) resumable() bool {
	return fw.resume != nil && fw.accepted.Load() && fw.scan.Format() != audioframe.Unknown
}

// lostConns reports whether up, the current Icecast connection, and
// old, a tee's, have ended on their own, forgetting the other Icecast
// connections that did.
func (fw *forward) lostConns(up, old net.Conn) (upLost, oldLost bool) {
	for {
		select {
		case c := <-fw.lost:
			upLost = upLost || (up != nil && c == up)
			oldLost = oldLost || (old != nil && c == old)
		default:
			return upLost, oldLost
		}
	}
}

// hold closes up (nil: kept as a tee) and holds the source from stream
// position pos on, while a goroutine moves it to the master of the
// moment.
func (fw *forward) hold(up net.Conn, reason string, pos int64) *backlog {
	if up != nil {
		fw.setUp(nil)
		up.Close()
	}
	fw.m.sourceReconnects.WithLabelValues(reason).Inc()
	fw.log.Info("source: held, moving it to the master of the moment", "reason", reason, "bytes", fw.sent.Load(),
		"old_master", fw.master, "old_master_fed", up == nil)
	fw.wg.Add(1)
	go func() {
		defer fw.wg.Done()
		up, err := fw.resume(fw.ctx)
		if err == nil {
			fw.wg.Add(1)
			go func() {
				defer fw.wg.Done()
				fw.watch(up.conn, up.in)
			}()
		}
		fw.resumed <- resumeResult{up: up, err: err}
		if err != nil {
			// Wakes the source's side, which then ends.
			fw.Close()
		}
	}()
	return &backlog{start: pos, limits: fw.backlog, since: time.Now()}
}

// replay makes up the current Icecast and sends it what held holds, from
// its first point on.
func (fw *forward) replay(up *upstream, held *backlog) error {
	if !fw.setUp(up.conn) {
		return errClosed
	}
	head, data, dropped := held.replay()
	fw.m.sourceDropped.Add(float64(dropped))
	err := fw.write(up.conn, head)
	if err == nil {
		err = fw.write(up.conn, data)
	}
	if err == nil {
		fw.log.Info("source: moved to the master of the moment", "new_master", up.master.Name,
			"held", time.Since(held.since).Round(time.Millisecond), "replayed_bytes", len(head)+len(data), "dropped_bytes", dropped)
	}
	return err
}

// current returns the current Icecast connection.
func (fw *forward) current() net.Conn {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	return fw.up
}

// setUp makes c the current Icecast connection; false (c is closed) once
// the forward is closed.
func (fw *forward) setUp(c net.Conn) bool {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.closed && c != nil {
		c.Close()
		return false
	}
	fw.up = c
	return true
}

// upstreamToClient passes Icecast's response head to the source, the
// part up holds first (sending its final status code on codec). Once
// Icecast has accepted the source, whatever it sends is read and
// dropped, and its end starts a move to another Icecast; when it has
// not, the rest of its answer is passed on.
func (fw *forward) upstreamToClient(up *upstream, codec chan<- int) {
	up.conn.SetReadDeadline(deadline(fw.respWait))
	in := up.in
	out := bufio.NewWriterSize(fw.client, 512)
	// A held 100 Continue goes at once: the source waits for it.
	out.Write(up.head)
	code, err := up.code, out.Flush()
	switch {
	case err != nil && code < 200:
		code = 0
	case code < 200:
		code, err = readResponseHead(in, out)
	}
	fw.accepted.Store(err == nil && code >= 200 && code < 300)
	fw.onResponse(code)
	codec <- code
	if err != nil {
		fw.Close()
		return
	}
	if fw.accepted.Load() {
		fw.watch(up.conn, in)
		return
	}
	rest := io.MultiReader(io.LimitReader(in, int64(in.Buffered())), up.conn)
	buf := fw.bufs.Get()
	defer fw.bufs.Put(buf)
	up.conn.SetReadDeadline(time.Time{})
	err = splice.Copy(fw.client, rest, up.conn, buf, 0, halfCloseGrace, nil)
	fw.finish(err, fw.client)
}

// watch reads and drops what an Icecast that accepted the source sends
// (nothing, as a rule) until the connection ends, and then reports it
// lost.
func (fw *forward) watch(conn net.Conn, in *bufio.Reader) {
	// Icecast is silent while a source streams: no idle limit this way.
	conn.SetReadDeadline(time.Time{})
	io.Copy(io.Discard, in)
	select {
	case fw.lost <- conn:
	default:
	}
}

// finish ends one direction: on EOF it half-closes dst and gives the other
// direction halfCloseGrace to end; on an error it closes both.
func (fw *forward) finish(err error, dst net.Conn) {
	cw, ok := dst.(interface{ CloseWrite() error })
	if !errors.Is(err, io.EOF) || !ok {
		fw.Close()
		return
	}
	cw.CloseWrite()
	fw.ending.Do(func() { fw.grace = time.AfterFunc(halfCloseGrace, fw.Close) })
}

// Close closes both connections, which ends both directions, and stops
// a move to another Icecast.
func (fw *forward) Close() {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.closed {
		return
	}
	fw.closed = true
	fw.cancel()
	fw.client.Close()
	if fw.up != nil {
		fw.up.Close()
	}
	if fw.old != nil {
		fw.old.Close()
	}
}

// readResponseHead copies Icecast's response headers to w as they come,
// through any 1xx interim responses, and returns the final status code.
func readResponseHead(r *bufio.Reader, w *bufio.Writer) (int, error) {
	for {
		code, err := copyHeaderBlock(r, w)
		if err != nil {
			return 0, err
		}
		if code >= 200 {
			return code, nil
		}
	}
}

// copyHeaderBlock copies one status line and its headers, up to the empty
// line, and returns the status code.
func copyHeaderBlock(r *bufio.Reader, w *bufio.Writer) (int, error) {
	status, err := r.ReadSlice('\n')
	if err != nil {
		return 0, fmt.Errorf("reading the status line: %w", err)
	}
	code, err := parseStatusLine(string(status))
	if err != nil {
		return 0, err
	}
	w.Write(status)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("reading headers: %w", err)
		}
		w.Write(line)
		if len(strings.TrimRight(string(line), "\r\n")) == 0 {
			return code, w.Flush()
		}
	}
}

// parseStatusLine returns the code of "HTTP/1.x NNN reason".
func parseStatusLine(line string) (int, error) {
	proto, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	codeStr, _, _ := strings.Cut(rest, " ")
	code, err := strconv.Atoi(codeStr)
	if !strings.HasPrefix(proto, "HTTP/") || err != nil || code < 100 || code > 999 {
		return 0, fmt.Errorf("bad status line %q", strings.TrimSpace(line))
	}
	return code, nil
}

// deadline returns now+d.
func deadline(d time.Duration) time.Time { return time.Now().Add(d) }
