package hls

import (
	"cmp"
	"time"
)

// Config configures HLS. Every zero field takes its stated default.
type Config struct {
	// Target is the target duration of segments. Default 4s: a player
	// starts about three segments behind live (12 s), and fails over to
	// another node within one segment.
	Target time.Duration
	// Segments is how many segments a media playlist lists. Default 6.
	Segments int
	// SessionTimeout ends a session that fetched nothing for this long.
	// Default two target durations and a half: players reload the
	// playlist every target duration.
	SessionTimeout time.Duration
	// Idle stops a mount's segmenter this long after its last request.
	// Default SessionTimeout.
	Idle time.Duration
	// ReadyTimeout bounds the wait of a playlist request for a new
	// segmenter's first segment. Default 15s.
	ReadyTimeout time.Duration
	// MaxSessions bounds the sessions of all mounts. Default 100,000.
	MaxSessions int
}

// Defaults of Config.
const (
	DefaultTarget       = 4 * time.Second
	DefaultSegments     = 6
	DefaultReadyTimeout = 15 * time.Second
	DefaultMaxSessions  = 100_000
)

func (c Config) withDefaults() Config {
	c.Target = cmp.Or(c.Target, DefaultTarget)
	c.Segments = cmp.Or(c.Segments, DefaultSegments)
	c.SessionTimeout = cmp.Or(c.SessionTimeout, c.Target*5/2)
	c.Idle = cmp.Or(c.Idle, c.SessionTimeout)
	c.ReadyTimeout = cmp.Or(c.ReadyTimeout, DefaultReadyTimeout)
	c.MaxSessions = cmp.Or(c.MaxSessions, DefaultMaxSessions)
	return c
}
