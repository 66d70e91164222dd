package acme

import (
	"crypto/x509"
	"encoding/json"
	"slices"
	"time"
)

// account is the ACME account stored at autoradio.ACMEAccountKey.
type account struct {
	Directory string `json:"directory"`
	Key       string `json:"key"` // PEM, EC PRIVATE KEY
}

func parse[T any](data []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, err
	}
	return v, nil
}

// renewAt is when a certificate is renewed: two thirds into its lifetime.
func renewAt(leaf *x509.Certificate) time.Time {
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	return leaf.NotBefore.Add(life * 2 / 3)
}

// covers reports whether leaf is valid for every one of names.
func covers(leaf *x509.Certificate, names []string) bool {
	for _, n := range names {
		if !slices.Contains(leaf.DNSNames, n) {
			return false
		}
	}
	return true
}
