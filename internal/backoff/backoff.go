// Package backoff computes the delays between attempts of something that
// fails and is tried again: a restarted child process, a lost etcd session
// or watch.
package backoff

import (
	"cmp"
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is a capped exponential delay: Initial, then doubling up to Max.
// Set Initial and Max (Max >= Initial); the zero value of the rest is
// usable. A Backoff is not safe for concurrent use.
type Backoff struct {
	Initial, Max time.Duration
	// ResetAfter: an attempt that went on for at least this long
	// succeeded, and the next delay is Initial again (see Ran). Zero
	// means Max.
	ResetAfter time.Duration
	// Jitter makes each delay a random one between half and all of its
	// nominal value, so that peers that failed together do not retry in
	// step.
	Jitter bool

	last time.Duration // nominal value of the last delay; 0: none since Reset
}

// Next returns the delay before the next attempt.
func (b *Backoff) Next() time.Duration {
	if b.last == 0 {
		b.last = b.Initial
	} else {
		b.last = min(2*b.last, b.Max)
	}
	if b.Jitter {
		return b.last/2 + rand.N(b.last/2+1)
	}
	return b.last
}

// Reset makes the next delay Initial.
func (b *Backoff) Reset() { b.last = 0 }

// Ran tells the back-off how long the last attempt went on before it
// failed: at least ResetAfter resets it, a shorter run (a flapping
// failure) keeps backing off.
func (b *Backoff) Ran(d time.Duration) {
	if d >= cmp.Or(b.ResetAfter, b.Max) {
		b.Reset()
	}
}

// Wait sleeps for the next delay; it returns false if ctx ended first.
func (b *Backoff) Wait(ctx context.Context) bool {
	t := time.NewTimer(b.Next())
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
