package coordination

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Defaults of the options.
const (
	DefaultMinBackoff = 250 * time.Millisecond
	// DefaultMaxBackoff is short: after an etcd outage the cluster must
	// see new configuration within a second or two, and a read a second
	// per node is no load for etcd.
	DefaultMaxBackoff     = time.Second
	DefaultAttemptTimeout = 5 * time.Second
)

// Option configures the functions and types of this package. Each takes the
// options that concern it and ignores the others.
type Option func(*options)

type options struct {
	log            *slog.Logger
	minBackoff     time.Duration
	maxBackoff     time.Duration
	attemptTimeout time.Duration
	onSessionLost  func(error)
}

// WithLogger sets the logger; the default is slog.Default(). A "component"
// attribute is added to it.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// WithBackoff sets the bounds of the delay between retries: it starts at
// first and doubles up to limit, with jitter. Defaults: DefaultMinBackoff
// and DefaultMaxBackoff.
func WithBackoff(first, limit time.Duration) Option {
	return func(o *options) {
		if first > 0 {
			o.minBackoff = first
		}
		if limit >= o.minBackoff {
			o.maxBackoff = limit
		}
	}
}

// WithAttemptTimeout bounds each single etcd call that has no context of
// its own to end it (reads, lease grants, resignations). Default:
// DefaultAttemptTimeout.
func WithAttemptTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.attemptTimeout = d
		}
	}
}

// WithSessionLost sets a function that RunSession calls, from its own
// goroutine, each time a session is lost; err wraps ErrSessionLost.
func WithSessionLost(fn func(err error)) Option {
	return func(o *options) { o.onSessionLost = fn }
}

func newOptions(component string, opts []Option) *options {
	o := &options{
		minBackoff:     DefaultMinBackoff,
		maxBackoff:     DefaultMaxBackoff,
		attemptTimeout: DefaultAttemptTimeout,
	}
	for _, opt := range opts {
		opt(o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	o.log = o.log.With("component", component)
	return o
}

// attempt returns a context for one etcd call.
func (o *options) attempt(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, o.attemptTimeout)
}

func (o *options) backoff() *backoff {
	return &backoff{min: o.minBackoff, max: o.maxBackoff}
}

// backoff is a capped exponential delay with jitter.
type backoff struct {
	min, max time.Duration
	next     time.Duration
}

// wait sleeps for the next delay; it returns false if ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	if b.next == 0 {
		b.next = b.min
	}
	d := b.next/2 + rand.N(b.next/2+1)
	b.next = min(2*b.next, b.max)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// settle restarts the delays from min if what was retried then worked for
// longer than the longest delay: a flapping failure keeps backing off.
func (b *backoff) settle(since time.Time) {
	if time.Since(since) > b.max {
		b.next = 0
	}
}
