package autoradio

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ACMECertificate is the record at ACMECertificateKey: the certificate
// every front-end serves over HTTPS, and its private key.
type ACMECertificate struct {
	// Certificate is the PEM chain, leaf first.
	Certificate string `json:"certificate"`
	// Key is the PEM private key.
	Key string `json:"key"`
}

// ACMEStatus is the record at ACMEStatusKey: the outcome of the last
// order.
type ACMEStatus struct {
	// Node is the front-end that ordered.
	Node string `json:"node"`
	// Time is when the order ended.
	Time time.Time `json:"time"`
	// Error is why it failed; empty after a success.
	Error string `json:"error,omitempty"`
}

// CertificateStatus describes the cluster's ACME certificate, without
// its key, for radioctl status.
type CertificateStatus struct {
	// Names, Issuer and NotAfter describe the certificate; Names is empty
	// when there is none.
	Names    []string
	Issuer   string
	NotAfter time.Time
	// Last is the outcome of the last order, nil before the first.
	Last *ACMEStatus
}

// ErrNoACME is returned by CertificateStatus when etcd holds neither a
// certificate nor an order's outcome: ACME is not used.
var ErrNoACME = errors.New("no ACME certificate in etcd")

// CertificateStatus reads the cluster's ACME certificate and the outcome
// of its last order.
func (c *Client) CertificateStatus(ctx context.Context) (*CertificateStatus, error) {
	resp, err := c.etcd.Txn(ctx).Then(
		clientv3.OpGet(ACMECertificateKey), clientv3.OpGet(ACMEStatusKey)).Commit()
	if err != nil {
		return nil, fmt.Errorf("reading the ACME certificate: %w", err)
	}
	cert, last := resp.Responses[0].GetResponseRange().Kvs, resp.Responses[1].GetResponseRange().Kvs
	if len(cert) == 0 && len(last) == 0 {
		return nil, ErrNoACME
	}
	st := &CertificateStatus{}
	if len(last) == 1 {
		st.Last = new(ACMEStatus)
		if err := json.Unmarshal(last[0].Value, st.Last); err != nil {
			return nil, fmt.Errorf("%s: %w", ACMEStatusKey, err)
		}
	}
	if len(cert) == 1 {
		leaf, err := ParseACMECertificate(cert[0].Value)
		if err != nil {
			return nil, err
		}
		issuer := leaf.Issuer.CommonName
		if issuer == "" {
			issuer = leaf.Issuer.String()
		}
		st.Names, st.Issuer, st.NotAfter = leaf.DNSNames, issuer, leaf.NotAfter
	}
	return st, nil
}

// ParseACMECertificate returns the leaf of a certificate record.
func ParseACMECertificate(value []byte) (*x509.Certificate, error) {
	var rec ACMECertificate
	if err := json.Unmarshal(value, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", ACMECertificateKey, err)
	}
	b, _ := pem.Decode([]byte(rec.Certificate))
	if b == nil {
		return nil, fmt.Errorf("%s: no PEM certificate", ACMECertificateKey)
	}
	leaf, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ACMECertificateKey, err)
	}
	return leaf, nil
}
