package coordination

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"autoradio/internal/backoff"
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
	o.log = cmp.Or(o.log, slog.Default()).With("component", component)
	return o
}

// attempt returns a context for one etcd call.
func (o *options) attempt(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, o.attemptTimeout)
}

func (o *options) backoff() *backoff.Backoff {
	return &backoff.Backoff{Initial: o.minBackoff, Max: o.maxBackoff, Jitter: true}
}
