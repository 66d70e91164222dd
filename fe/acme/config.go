package acme

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Config configures a Manager. Directory and Names are required.
type Config struct {
	// Directory is the ACME directory URL of the certificate authority,
	// e.g. https://acme-v02.api.letsencrypt.org/directory (--acme).
	Directory string
	// Email is the account's contact address (--acme-email); optional.
	Email string
	// Names returns the DNS names the certificate must cover, when an
	// order is due; nil (not known yet) postpones it. A wildcard
	// (*.example.com) is allowed: DNS-01 validates it.
	Names func() []string
	// Roots are the certificate authorities trusted when talking to the
	// ACME server. Default: the system's.
	Roots *x509.CertPool
	// NodeName names this front-end in the election and the status.
	NodeName string
	// Propagated, if set, is called for each challenge record before the
	// certificate authority is asked to check it, and should return once
	// every DNS server of the zone answers value for name (the check
	// ACME clients make of a provider's name servers).
	Propagated func(ctx context.Context, name, value string) error
	// SessionTTL is the TTL of the lease that holds the election and the
	// challenge records: how long a dead front-end stops the others from
	// taking over. Default 5s.
	SessionTTL time.Duration
	// Check is how often the ordering front-end looks whether an order is
	// due, beyond the renewal time itself (names that appear). Default 5s.
	Check time.Duration
	// OrderTimeout bounds one order, from the first request to the
	// certificate. Default 5m.
	OrderTimeout time.Duration
	// RetryMin and RetryMax bound the back-off after a failed order.
	// Defaults 10s and 1h.
	RetryMin, RetryMax time.Duration
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultSessionTTL   = 5 * time.Second
	DefaultCheck        = 5 * time.Second
	DefaultOrderTimeout = 5 * time.Minute
	DefaultRetryMin     = 10 * time.Second
	DefaultRetryMax     = time.Hour
	// requestTimeout bounds each HTTP request to the ACME server.
	requestTimeout = 30 * time.Second
)

func (c Config) withDefaults() (Config, error) {
	if c.Directory == "" {
		return c, errors.New("acme: config: Directory is required")
	}
	if c.Names == nil {
		return c, errors.New("acme: config: Names is required")
	}
	c.SessionTTL = cmp.Or(c.SessionTTL, DefaultSessionTTL)
	c.Check = cmp.Or(c.Check, DefaultCheck)
	c.OrderTimeout = cmp.Or(c.OrderTimeout, DefaultOrderTimeout)
	c.RetryMin = cmp.Or(c.RetryMin, DefaultRetryMin)
	c.RetryMax = cmp.Or(c.RetryMax, DefaultRetryMax)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// httpClient talks to the ACME server, trusting Roots.
func (c Config) httpClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.Roots != nil {
		tr.TLSClientConfig.RootCAs = c.Roots
	}
	return &http.Client{Transport: tr, Timeout: requestTimeout}
}
