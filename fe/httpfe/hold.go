package httpfe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"autoradio"
	"autoradio/internal/backoff"
)

// holdRetry paces the tries of a held source: short waits, as a new
// mount usually reaches the master's Icecast within a second or two.
var holdRetry = backoff.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}

// maxResponseHead bounds one response head of Icecast held in memory.
const maxResponseHead = 16 << 10

// errClosed ends the hold of a source when the handler is closed.
var errClosed = errors.New("the front-end is shutting down")

// errNoMaster: no Icecast master is elected.
var errNoMaster = errors.New("no Icecast master is elected")

// An upstream is a connection to the master's Icecast on which a
// source's request head was sent, with Icecast's first response head
// read but not yet passed on to the source.
type upstream struct {
	conn   net.Conn
	in     *bufio.Reader // Icecast's bytes after head
	master *autoradio.MasterInfo
	code   int    // status code of head; 1xx: more heads follow
	head   []byte // as Icecast sent it, up to its empty line
}

// connectUpstream sends r's head to the master's Icecast and reads its
// first answer, before anything is written to the source. The
// front-end has checked the source's credentials, so a 401 from Icecast
// means that the master has not applied the mount's configuration yet
// (a new mount, a new master): the source is held, and tried again on
// the master of the moment, for up to Config.SourceHold; after that
// Icecast's last answer stands. The source's own bytes wait meanwhile,
// unread, in its connection: nothing is lost, and a source that sends
// more than the socket buffers hold is slowed down, not dropped. Errors
// of the first try are returned; a later try that fails (no master, or
// one not reachable yet, during an election) is tried again like a 401.
func (h *Handler) connectUpstream(ctx context.Context, r *http.Request, mount string) (*upstream, error) {
	deadline := time.Now().Add(h.cfg.SourceHold)
	b := holdRetry
	var last *upstream
	for {
		up, err := h.tryUpstream(ctx, r, mount, false)
		switch {
		case err == nil:
			if last != nil {
				last.conn.Close()
			}
			last = up
			if up.code != http.StatusUnauthorized {
				return up, nil
			}
		case last == nil:
			return nil, err
		}
		wait := b.Next()
		if time.Until(deadline) < wait {
			return last, nil
		}
		if err := h.sleep(ctx, wait); err != nil {
			last.conn.Close()
			return nil, err
		}
		h.metrics.sourceHoldRetries.Inc()
	}
}

// sleep waits for d; it fails if ctx ends or the handler is closed first.
func (h *Handler) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-h.closing:
		return errClosed
	}
}

// tryUpstream connects to the current master's Icecast, sends r's head
// (as for a resumed source when resumed) and reads the first response
// head, within ctx's deadline if it has one.
func (h *Handler) tryUpstream(ctx context.Context, r *http.Request, mount string, resumed bool) (*upstream, error) {
	master, ok := h.cluster.Master()
	if !ok || len(master.IPs) == 0 {
		return nil, errNoMaster
	}
	addr := master.IcecastAddr()
	conn, err := h.dialMaster(ctx, addr)
	if err != nil {
		return nil, &dialError{addr: addr, err: err}
	}
	end := deadline(h.cfg.ResponseTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(end) {
		end = d
	}
	conn.SetDeadline(end)
	up := &upstream{conn: conn, in: bufio.NewReaderSize(conn, 2<<10), master: master}
	if _, err = conn.Write(sourceRequestHead(r, mount, addr, resumed)); err == nil {
		up.code, up.head, err = readHeadBlock(up.in)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return up, nil
}

// A dialError: the master's Icecast could not be reached.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Error() string { return "connecting to " + e.addr + ": " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// readHeadBlock reads one status line and its headers, up to the empty
// line, and returns the status code and the bytes read.
func readHeadBlock(r *bufio.Reader) (int, []byte, error) {
	var buf bytes.Buffer
	w := bufio.NewWriterSize(&limitedWriter{w: &buf, n: maxResponseHead}, 512)
	code, err := copyHeaderBlock(r, w)
	if err != nil {
		return 0, nil, err
	}
	return code, buf.Bytes(), nil
}

// A limitedWriter fails once more than n bytes were written to it.
type limitedWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.w.Len()+len(p) > l.n {
		return 0, errors.New("response head too long")
	}
	return l.w.Write(p)
}
