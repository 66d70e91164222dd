package httpfe

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// halfCloseGrace is how long one direction of a relay may go on after the
// other has ended.
const halfCloseGrace = 5 * time.Second

// masterCheckInterval is how often a relay checks that its Icecast is
// still the master's.
const masterCheckInterval = 250 * time.Millisecond

// errDeposed ends a relay to a node that is no longer master.
var errDeposed = errors.New("the master changed")

// relay joins a hijacked source connection to a connection to the master's
// Icecast. Each direction runs until EOF or an error; EOF is passed on as a
// half-close, and the other direction then gets halfCloseGrace to finish.
type relay struct {
	client   net.Conn
	clientIn *bufio.Reader // holds bytes the server read past the headers
	up       net.Conn
	idle     time.Duration // source → Icecast inactivity limit
	respWait time.Duration // wait for Icecast's response headers, and limit on each write to it
	// deposed reports that the relay's Icecast is no longer the master's:
	// the source must reconnect, to the new master. Nothing else would
	// tell it when the old master is cut off, as the kernel buffers
	// minutes of a stream.
	deposed func() bool
	bufs    *bufferPool
	m       *metrics
	// onResponse is called with Icecast's final status code (0: none) as
	// soon as it is known.
	onResponse func(code int)
	sent       atomic.Int64 // source bytes relayed to Icecast
	once       sync.Once    // closing both connections
	ending     sync.Once    // starting the grace timer
	grace      *time.Timer  // closes both when the grace period is over
}

// run sends head to Icecast, relays until both directions are done, closes
// both connections and returns Icecast's final status code (0 if none) and
// what ended the source's side (nil: its end of stream).
func (rl *relay) run(head []byte) (int, error) {
	defer rl.closeBoth()
	rl.up.SetWriteDeadline(deadline(rl.respWait))
	if _, err := rl.up.Write(head); err != nil {
		rl.onResponse(0)
		return 0, err
	}
	codec := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rl.upstreamToClient(codec)
	}()
	err := rl.sourceToUpstream()
	<-done
	if rl.grace != nil {
		rl.grace.Stop()
	}
	return <-codec, err
}

// sourceToUpstream copies the source's bytes, those already buffered first,
// to Icecast, and returns what ended it (nil: the source's end of stream).
func (rl *relay) sourceToUpstream() error {
	buf := rl.bufs.Get()
	defer rl.bufs.Put(buf)
	n := rl.clientIn.Buffered()
	src := io.MultiReader(io.LimitReader(rl.clientIn, int64(n)), rl.client)
	rl.clientIn = nil
	var checked time.Time
	err := rl.copy(rl.up, src, rl.client, buf, rl.idle, rl.respWait, func(n int) error {
		rl.sent.Add(int64(n))
		rl.m.sourceBytes.Add(float64(n))
		if now := time.Now(); now.Sub(checked) >= masterCheckInterval {
			checked = now
			if rl.deposed != nil && rl.deposed() {
				return errDeposed
			}
		}
		return nil
	})
	rl.finish(err, rl.up)
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// upstreamToClient passes Icecast's response head to the source (sending
// its status code on codec), then any further bytes.
func (rl *relay) upstreamToClient(codec chan<- int) {
	rl.up.SetReadDeadline(deadline(rl.respWait))
	in := bufio.NewReaderSize(rl.up, 2<<10)
	out := bufio.NewWriterSize(rl.client, 512)
	code, err := readResponseHead(in, out)
	rl.onResponse(code)
	codec <- code
	if err != nil {
		rl.closeBoth()
		return
	}
	rest := io.MultiReader(io.LimitReader(in, int64(in.Buffered())), rl.up)
	buf := rl.bufs.Get()
	defer rl.bufs.Put(buf)
	// Icecast is silent while a source streams: no idle limit this way.
	rl.up.SetReadDeadline(time.Time{})
	err = rl.copy(rl.client, rest, rl.up, buf, 0, halfCloseGrace, func(int) error { return nil })
	rl.finish(err, rl.client)
}

// copy copies src to dst through buf. With idle > 0, each read from conn
// (the connection under src) must bring data within idle; each write must
// be done within wait. After each write, count is told how many bytes
// went; an error from it ends the copy.
func (rl *relay) copy(dst net.Conn, src io.Reader, conn net.Conn, buf []byte, idle, wait time.Duration, count func(int) error) error {
	for {
		if idle > 0 {
			conn.SetReadDeadline(deadline(idle))
		}
		n, err := src.Read(buf)
		if n > 0 {
			dst.SetWriteDeadline(deadline(wait))
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
			if cerr := count(n); cerr != nil {
				return cerr
			}
		}
		if err != nil {
			return err
		}
	}
}

// finish ends one direction: on EOF it half-closes dst and gives the other
// direction halfCloseGrace to end; on an error it closes both.
func (rl *relay) finish(err error, dst net.Conn) {
	cw, ok := dst.(interface{ CloseWrite() error })
	if !errors.Is(err, io.EOF) || !ok {
		rl.closeBoth()
		return
	}
	cw.CloseWrite()
	rl.ending.Do(func() { rl.grace = time.AfterFunc(halfCloseGrace, rl.closeBoth) })
}

// closeBoth closes both connections, which ends both directions.
func (rl *relay) closeBoth() {
	rl.once.Do(func() {
		rl.client.Close()
		rl.up.Close()
	})
}

// relaySet tracks the relays in flight so that Close can end them.
type relaySet struct {
	mu     sync.Mutex
	relays map[*relay]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newRelaySet() *relaySet { return &relaySet{relays: map[*relay]struct{}{}} }

// add registers rl; false once the set is closed.
func (s *relaySet) add(rl *relay) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.relays[rl] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *relaySet) remove(rl *relay) {
	s.mu.Lock()
	delete(s.relays, rl)
	s.mu.Unlock()
	s.wg.Done()
}

// closeAll closes every relay, refuses new ones and waits for them to end.
func (s *relaySet) closeAll() {
	s.mu.Lock()
	s.closed = true
	for rl := range s.relays {
		rl.closeBoth()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
