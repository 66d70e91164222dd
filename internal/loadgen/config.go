package loadgen

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Config describes one load run. The zero value of every field but URL and
// Listeners means its default.
type Config struct {
	// URL every listener opens (http or https).
	URL string
	// TLS is the client configuration of https URLs (nil: Go's default,
	// trusting the system's roots). Each listener makes a full handshake:
	// sessions are not resumed unless it sets a ClientSessionCache.
	TLS *tls.Config
	// Listeners is how many concurrent listeners to open.
	Listeners int
	// Rate is how many new listeners start per second during the ramp-up;
	// 0 starts them all at once.
	Rate float64
	// Duration is how long the whole run lasts, ramp-up included
	// (default 30s). Rates are measured from the end of the ramp-up plus
	// Settle, or from a listener's first byte if that came later, to the
	// end.
	Duration time.Duration
	// Settle delays the measurement window after the ramp-up, so that
	// listeners whose connection was retried (a server's full listen
	// backlog) are in and their first burst is past (default 0).
	Settle time.Duration
	// FollowRedirects makes listeners follow 3xx answers (up to 10), as a
	// player does with autoradio's GET /<mount>. Without it a 3xx is an
	// error.
	FollowRedirects bool
	// ConnectTimeout bounds connecting and receiving the response headers
	// (default 10s).
	ConnectTimeout time.Duration
	// IdleTimeout ends a listener that received nothing for this long; it
	// counts as a disconnect (default 10s).
	IdleTimeout time.Duration
	// Retries is how many times a listener that could not connect tries
	// again, 500 ms later, before it counts as failed (default 0). Each
	// failed attempt counts as an error.
	Retries int
	// Reconnect makes a listener that was disconnected connect again; each
	// disconnect still counts.
	Reconnect bool
	// BufferSize is each listener's read buffer (default 4 KiB: 5,000
	// listeners must fit in the load client's memory too).
	BufferSize int
	// Watch are server processes whose CPU time and memory the report
	// relates to the listener count.
	Watch []Process
}

// Defaults.
const (
	DefaultDuration       = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultIdleTimeout    = 10 * time.Second
	DefaultBufferSize     = 4 << 10
	retryDelay            = 500 * time.Millisecond
)

// withDefaults returns c with its zero (or negative) durations and sizes
// replaced by the defaults.
func (c Config) withDefaults() Config {
	c.Duration = cmp.Or(max(c.Duration, 0), DefaultDuration)
	c.ConnectTimeout = cmp.Or(max(c.ConnectTimeout, 0), DefaultConnectTimeout)
	c.IdleTimeout = cmp.Or(max(c.IdleTimeout, 0), DefaultIdleTimeout)
	c.BufferSize = cmp.Or(max(c.BufferSize, 0), DefaultBufferSize)
	return c
}

// Validate reports what is wrong with the configuration.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("loadgen: url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("loadgen: url %q: want http://host/path", c.URL)
	}
	if c.Listeners <= 0 {
		return errors.New("loadgen: listeners must be at least 1")
	}
	if c.Rate < 0 || c.Retries < 0 || c.Settle < 0 {
		return errors.New("loadgen: rate, retries and settle must not be negative")
	}
	return nil
}

// rampDuration is how long starting every listener takes.
func (c Config) rampDuration() time.Duration {
	if c.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(c.Listeners-1) / c.Rate * float64(time.Second))
}

// startOffset is when listener i starts, from the start of the run.
func (c Config) startOffset(i int) time.Duration {
	if c.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(i) / c.Rate * float64(time.Second))
}
