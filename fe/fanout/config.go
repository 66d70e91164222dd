package fanout

import (
	"cmp"
	"time"
)

// Config configures a Fanout. A zero field with a stated default takes
// it; the others must be set (fe/httpfe sets them from its own Config).
type Config struct {
	// Upstream is where streams come from: the local Icecast.
	Upstream Upstream
	// Others returns the Icecasts of other nodes that serve mount live,
	// best first, for while the local one does not (it restarts, its relay
	// is not up yet or stalls, or its node steps aside for a handover).
	// A feed streaming from one of them leaves it once it is no longer
	// among them. nil: none.
	Others func(mount string) []Other
	// LocalLive tells whether the local Icecast serves mount live, as far
	// as the cluster knows: a feed streaming from another node moves back
	// once it does, and one streaming from the local Icecast moves to
	// another node once it does not. nil: always.
	LocalLive func(mount string) bool
	// Leave, when not nil, limits the moves away from a local Icecast
	// that streams but is not live to when it returns true: the local
	// node steps aside for a handover, or lost its relays. Other causes
	// (a relay not up yet) are waited out on the local Icecast, as a move
	// risks a splice. nil: any local Icecast not live is left.
	Leave func(mount string) bool
	// Taps returns where mount can be streamed from its source itself,
	// this node's first: the front-ends that hold its source connection
	// (package fe/tap). A feed moves to one when its upstream sends nothing
	// for StallTimeout, or no longer serves the mount live while no other
	// Icecast does (its master died or was cut off); it leaves it as
	// Healthy tells, or when it ends. nil: none.
	Taps func(mount string) []Other
	// Master returns the name of the master of the moment, "" while none
	// is elected: a feed notes it when it moves to a tap. nil: "".
	Master func() string
	// Healthy returns the Icecasts that serve mount live under a master
	// elected since master (the one when the feed moved to a tap): whether
	// the local one does, and the other nodes' that do, best first. A feed
	// on a tap moves to the first of them that streams, the local Icecast
	// first; none while the master has not changed, so that a feed does
	// not go back to the Icecast that stalled. nil: none.
	Healthy func(mount, master string) (local bool, others []Other)
	// StallTimeout is how long an upstream may send nothing before the
	// feed moves to a tap (with Taps); below Icecast's source-timeout,
	// so that listeners hear no fallback. It keeps reading the stalled
	// upstream meanwhile. Default 2.5s.
	StallTimeout time.Duration
	// ProbeInterval is how often a feed checks LocalLive and Others, which
	// must be cheap; an upstream is only opened when a move is due.
	// Default 250ms.
	ProbeInterval time.Duration
	// WindowSize is the size of each feed's window: a listener that falls
	// this far behind is disconnected. At least two chunks.
	WindowSize int
	// ChunkSize is the unit of a window. Default 16 KiB.
	ChunkSize int
	// Burst is how much recent data a new listener gets at once.
	Burst int
	// MinRead is what a feed gathers from upstream before waking its
	// listeners, so that they wake a few times a second rather than for
	// every packet. Default 4 KiB.
	MinRead int
	// ReadTimeout bounds each read from upstream.
	ReadTimeout time.Duration
	// ReadyTimeout bounds the wait for the upstream's first answer.
	ReadyTimeout time.Duration
	// WriteTimeout bounds each write to a listener.
	WriteTimeout time.Duration
	// HeadTimeout bounds writing the answer to a HEAD request.
	HeadTimeout time.Duration
	// Grace is a feed's life after its last listener leaves.
	Grace time.Duration
	// Reconnect is how long a lost upstream is retried before the feed's
	// listeners are disconnected.
	Reconnect time.Duration
	// RetryDelay is the pause between reconnections. Default 250ms.
	RetryDelay time.Duration
	// SendBuffer is the SO_SNDBUF of listener connections (the kernel
	// doubles it). Default 64 KiB.
	SendBuffer int
}

// An Other is another node's Icecast.
type Other struct {
	Name     string // the node's, not empty; it names the node in logs
	Upstream Upstream
}

// Defaults of Config.
const (
	DefaultChunkSize     = 16 << 10
	DefaultMinRead       = 4 << 10
	DefaultRetryDelay    = 250 * time.Millisecond
	DefaultProbeInterval = 250 * time.Millisecond
	DefaultSendBuffer    = 64 << 10
	DefaultStallTimeout  = 2500 * time.Millisecond
)

func (c Config) withDefaults() Config {
	c.ChunkSize = cmp.Or(c.ChunkSize, DefaultChunkSize)
	c.MinRead = cmp.Or(c.MinRead, DefaultMinRead)
	c.RetryDelay = cmp.Or(c.RetryDelay, DefaultRetryDelay)
	c.ProbeInterval = cmp.Or(c.ProbeInterval, DefaultProbeInterval)
	c.SendBuffer = cmp.Or(c.SendBuffer, DefaultSendBuffer)
	c.StallTimeout = cmp.Or(c.StallTimeout, DefaultStallTimeout)
	return c
}

// chunks returns the number of chunks in a window.
func (c Config) chunks() int { return max(2, c.WindowSize/c.ChunkSize) }
