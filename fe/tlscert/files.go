package tlscert

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"time"
)

// DefaultPollInterval is how often WatchFiles reads the files again.
const DefaultPollInterval = 2 * time.Second

// Files names a certificate chain and its key on disk (--tls-cert,
// --tls-key), both PEM.
type Files struct {
	Cert, Key string
	// Interval between reads. Default DefaultPollInterval.
	Interval time.Duration
}

// Load reads the files into s once.
func (f Files) Load(s *Store) error {
	cert, key, err := f.read()
	if err != nil {
		s.SetError(err)
		return err
	}
	return s.SetPEM(cert, key, f.Cert)
}

// Watch reads the files every Interval and serves their content when it
// changed and forms a valid pair, until ctx ends; it returns nil then.
// Reading content rather than modification times catches a file replaced
// within the same second, or renamed over the old one; a pair caught half
// written fails to load, the old one stays, and the next read tries
// again.
func (f Files) Watch(ctx context.Context, s *Store) error {
	lastCert, lastKey, _ := f.read() // New or Load has served them, if valid
	lastErr := ""
	t := time.NewTicker(cmp.Or(max(f.Interval, 0), DefaultPollInterval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		cert, key, err := f.read()
		switch {
		case err != nil:
			if err.Error() != lastErr {
				s.SetError(err)
			}
			lastErr, lastCert, lastKey = err.Error(), nil, nil
		case !bytes.Equal(cert, lastCert) || !bytes.Equal(key, lastKey):
			lastErr, lastCert, lastKey = "", cert, key
			_ = s.SetPEM(cert, key, f.Cert)
		}
	}
}

func (f Files) read() (cert, key []byte, err error) {
	if cert, err = os.ReadFile(f.Cert); err != nil {
		return nil, nil, fmt.Errorf("tlscert: reading the certificate: %w", err)
	}
	if key, err = os.ReadFile(f.Key); err != nil {
		return nil, nil, fmt.Errorf("tlscert: reading the key: %w", err)
	}
	return cert, key, nil
}
