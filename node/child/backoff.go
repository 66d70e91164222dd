package child

import "time"

// backoff computes restart delays: initial, doubling up to max, back to
// initial after a run that lasted at least reset.
type backoff struct {
	initial, max, reset time.Duration
	last                time.Duration
}

// next returns the delay before the next start, given how long the last
// run lasted (0 when it failed to start).
func (b *backoff) next(uptime time.Duration) time.Duration {
	switch {
	case b.last == 0 || uptime >= b.reset:
		b.last = b.initial
	default:
		b.last = min(2*b.last, b.max)
	}
	return b.last
}

// clear makes the next delay the initial one.
func (b *backoff) clear() { b.last = 0 }
