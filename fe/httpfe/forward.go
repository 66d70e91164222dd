package httpfe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"autoradio/internal/splice"
)

// halfCloseGrace is how long one direction of a forwarded source may go on
// after the other has ended.
const halfCloseGrace = 5 * time.Second

// masterCheckInterval is how often a forwarded source checks that its
// Icecast is still the master's.
const masterCheckInterval = 250 * time.Millisecond

// errDeposed ends a source forwarded to a node that is no longer master.
var errDeposed = errors.New("the master changed")

// A forward is a source forwarded to the master: it joins a hijacked
// source connection to a connection to the master's Icecast. Each
// direction runs until EOF or an error; EOF is passed on as a half-close,
// and the other direction then gets halfCloseGrace to finish.
type forward struct {
	client   net.Conn
	clientIn *bufio.Reader // holds bytes the server read past the headers
	chunked  bool          // the source's body is chunked: Icecast gets it de-chunked
	up       net.Conn
	idle     time.Duration // source → Icecast inactivity limit
	respWait time.Duration // wait for Icecast's response headers, and limit on each write to it
	// deposed reports that the forward's Icecast is no longer the master's:
	// the source must reconnect, to the new master. Nothing else would
	// tell it when the old master is cut off, as the kernel buffers
	// minutes of a stream.
	deposed func() bool
	bufs    *bufferPool
	m       *metrics
	// onResponse is called with Icecast's final status code (0: none) as
	// soon as it is known.
	onResponse func(code int)
	sent       atomic.Int64 // source bytes forwarded to Icecast
	once       sync.Once    // closing both connections
	ending     sync.Once    // starting the grace timer
	grace      *time.Timer  // closes both when the grace period is over
}

// run passes up's response head to the source and forwards until both
// directions are done, closes both connections and returns Icecast's
// final status code (0 if none) and what ended the source's side (nil:
// its end of stream).
func (fw *forward) run(up *upstream) (int, error) {
	defer fw.Close()
	codec := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fw.upstreamToClient(up, codec)
	}()
	err := fw.sourceToUpstream()
	<-done
	if fw.grace != nil {
		fw.grace.Stop()
	}
	return <-codec, err
}

// sourceToUpstream copies the source's bytes, those already buffered first,
// to Icecast (de-chunked when chunked), and returns what ended it (nil: the
// source's end of stream).
func (fw *forward) sourceToUpstream() error {
	buf := fw.bufs.Get()
	defer fw.bufs.Put(buf)
	n := fw.clientIn.Buffered()
	var src io.Reader = io.MultiReader(io.LimitReader(fw.clientIn, int64(n)), fw.client)
	if fw.chunked {
		src = newDechunker(src)
	}
	fw.clientIn = nil
	var checked time.Time
	err := splice.Copy(fw.up, src, fw.client, buf, fw.idle, fw.respWait, func(n int) error {
		fw.sent.Add(int64(n))
		fw.m.sourceBytes.Add(float64(n))
		if now := time.Now(); now.Sub(checked) >= masterCheckInterval {
			checked = now
			if fw.deposed != nil && fw.deposed() {
				return errDeposed
			}
		}
		return nil
	})
	fw.finish(err, fw.up)
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// upstreamToClient passes Icecast's response head to the source, the
// part up holds first (sending its final status code on codec), then any
// further bytes.
func (fw *forward) upstreamToClient(up *upstream, codec chan<- int) {
	fw.up.SetReadDeadline(deadline(fw.respWait))
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
	fw.onResponse(code)
	codec <- code
	if err != nil {
		fw.Close()
		return
	}
	rest := io.MultiReader(io.LimitReader(in, int64(in.Buffered())), fw.up)
	buf := fw.bufs.Get()
	defer fw.bufs.Put(buf)
	// Icecast is silent while a source streams: no idle limit this way.
	fw.up.SetReadDeadline(time.Time{})
	err = splice.Copy(fw.client, rest, fw.up, buf, 0, halfCloseGrace, func(int) error { return nil })
	fw.finish(err, fw.client)
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

// Close closes both connections, which ends both directions.
func (fw *forward) Close() {
	fw.once.Do(func() {
		fw.client.Close()
		fw.up.Close()
	})
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
