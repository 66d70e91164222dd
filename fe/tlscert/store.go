package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrNoCertificate is returned to TLS handshakes while the store holds no
// certificate: plain HTTP keeps serving meanwhile.
var ErrNoCertificate = errors.New("tlscert: no certificate yet")

// Info describes a certificate without its key, for status pages.
type Info struct {
	// Names are the DNS names the certificate is valid for.
	Names []string `json:"names"`
	// Issuer is the issuer's common name (or its whole name).
	Issuer string `json:"issuer"`
	// NotBefore and NotAfter bound its validity.
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	// Source says where it came from: a file name, or "acme".
	Source string `json:"source"`
	// LoadedAt is when this front-end started serving it.
	LoadedAt time.Time `json:"loaded_at"`
	// Error is the last failure to load or renew a certificate, if any
	// happened since the last success.
	Error string `json:"error,omitempty"`
}

// Store is the certificate served over HTTPS. Its zero value holds none;
// it is safe for concurrent use.
type Store struct {
	cert atomic.Pointer[tls.Certificate]
	log  *slog.Logger
	// expired is set once the expiry of the certificate of the moment
	// has been logged by a handshake, so that it is logged once.
	expired atomic.Bool

	mu   sync.Mutex
	info Info
}

// NewStore returns an empty store whose expiry metric, if reg is not nil,
// is registered with reg. log may be nil (slog.Default()).
func NewStore(reg prometheus.Registerer, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Store{log: log.With("component", "tlscert")}
	if reg != nil {
		if err := reg.Register(&collector{s: s}); err != nil {
			return nil, fmt.Errorf("tlscert: registering metrics: %w", err)
		}
	}
	return s, nil
}

// SetPEM parses a PEM certificate chain and its PEM key and, if they
// form a valid pair, serves them from now on. source is told in Info.
func (s *Store) SetPEM(certPEM, keyPEM []byte, source string) error {
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		err = fmt.Errorf("tlscert: certificate from %s: %w", source, err)
		s.SetError(err)
		return err
	}
	s.Set(&c, source)
	return nil
}

// Set serves c from now on. An expired certificate is still served (a
// client may choose to accept it), but logged as an error.
func (s *Store) Set(c *tls.Certificate, source string) {
	leaf := c.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			s.SetError(fmt.Errorf("tlscert: certificate from %s: %w", source, err))
			return
		}
		c.Leaf = leaf
	}
	info := describe(leaf, source)
	s.cert.Store(c)
	s.expired.Store(false)
	s.mu.Lock()
	s.info = info
	s.mu.Unlock()
	s.log.Info("serving certificate over HTTPS", "names", info.Names, "issuer", info.Issuer,
		"not_after", info.NotAfter, "source", source)
}

// SetError records a failure to load or renew the certificate; the one
// served, if any, stays.
func (s *Store) SetError(err error) {
	s.mu.Lock()
	s.info.Error = err.Error()
	s.mu.Unlock()
	if s.cert.Load() == nil {
		s.log.Error("no certificate to serve over HTTPS; plain HTTP is unaffected", "err", err)
		return
	}
	s.log.Error("keeping the current certificate", "err", err)
}

// Info describes the certificate served, and the last error. Names is
// empty while there is none.
func (s *Store) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := s.info
	info.Names = slices.Clone(info.Names)
	return info
}

// Certificate returns the certificate served, or nil.
func (s *Store) Certificate() *tls.Certificate { return s.cert.Load() }

// GetCertificate is the tls.Config hook: every handshake gets the
// certificate of the moment.
func (s *Store) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c := s.cert.Load()
	if c == nil {
		return nil, ErrNoCertificate
	}
	if time.Now().After(c.Leaf.NotAfter) && !s.expired.Swap(true) {
		s.log.Error("the certificate served over HTTPS has EXPIRED: clients will refuse it; plain HTTP is unaffected",
			"names", c.Leaf.DNSNames, "not_after", c.Leaf.NotAfter)
	}
	return c, nil
}

func describe(leaf *x509.Certificate, source string) Info {
	issuer := leaf.Issuer.CommonName
	if issuer == "" {
		issuer = leaf.Issuer.String()
	}
	names := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return Info{
		Names:     names,
		Issuer:    issuer,
		NotBefore: leaf.NotBefore,
		NotAfter:  leaf.NotAfter,
		Source:    source,
		LoadedAt:  time.Now(),
	}
}
