package acme

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"golang.org/x/crypto/acme"

	"autoradio"
)

// etcdTimeout bounds each etcd request of an order.
const etcdTimeout = 5 * time.Second

// order obtains a certificate for names and stores it in etcd, answering
// the challenges with records bound to session s.
func (m *Manager) order(ctx context.Context, s *concurrency.Session, names []string) error {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.OrderTimeout)
	defer cancel()
	m.log.Info("ordering a certificate", "names", names, "directory", m.cfg.Directory)
	client, err := m.client(ctx)
	if err != nil {
		return err
	}
	o, err := client.AuthorizeOrder(ctx, acme.DomainIDs(names...))
	if err != nil {
		return fmt.Errorf("acme: new order: %w", err)
	}
	var records []string
	defer func() { m.deleteRecords(records) }()
	var accept []*acme.Challenge
	for _, u := range o.AuthzURLs {
		key, chal, err := m.prepare(ctx, client, s, u)
		if err != nil {
			return err
		}
		if chal != nil {
			records, accept = append(records, key), append(accept, chal)
		}
	}
	for _, chal := range accept {
		if _, err := client.Accept(ctx, chal); err != nil {
			return fmt.Errorf("acme: accepting challenge %s: %w", chal.URI, err)
		}
	}
	for _, u := range o.AuthzURLs {
		if _, err := client.WaitAuthorization(ctx, u); err != nil {
			return fmt.Errorf("acme: authorization %s: %w", u, err)
		}
	}
	if _, err := client.WaitOrder(ctx, o.URI); err != nil {
		return fmt.Errorf("acme: order %s: %w", o.URI, err)
	}
	return m.finalize(ctx, client, o, names)
}

// client returns an ACME client with the cluster's account, registered.
func (m *Manager) client(ctx context.Context) (*acme.Client, error) {
	key, err := m.accountKey(ctx)
	if err != nil {
		return nil, err
	}
	c := &acme.Client{Key: key, DirectoryURL: m.cfg.Directory, HTTPClient: m.cfg.httpClient(), UserAgent: "autoradio"}
	acct := &acme.Account{}
	if m.cfg.Email != "" {
		acct.Contact = []string{"mailto:" + m.cfg.Email}
	}
	if _, err := c.Register(ctx, acct, acme.AcceptTOS); err != nil && !errors.Is(err, acme.ErrAccountAlreadyExists) {
		return nil, fmt.Errorf("acme: registering the account: %w", err)
	}
	return c, nil
}

// accountKey returns the account key stored in etcd for this directory,
// or makes and stores a new one.
func (m *Manager) accountKey(ctx context.Context) (crypto.Signer, error) {
	ectx, cancel := context.WithTimeout(ctx, etcdTimeout)
	defer cancel()
	resp, err := m.etcd.Get(ectx, autoradio.ACMEAccountKey)
	if err != nil {
		return nil, fmt.Errorf("acme: reading the account: %w", err)
	}
	if len(resp.Kvs) == 1 {
		a, err := parse[account](resp.Kvs[0].Value)
		if err == nil && a.Directory == m.cfg.Directory {
			if key, err := parseKey([]byte(a.Key)); err == nil {
				return key, nil
			}
		}
		m.log.Warn("replacing the stored ACME account: another directory, or unreadable", "key", autoradio.ACMEAccountKey)
	}
	key, keyPEM, err := newKey()
	if err != nil {
		return nil, err
	}
	if err := m.putJSON(ctx, autoradio.ACMEAccountKey, account{Directory: m.cfg.Directory, Key: string(keyPEM)}); err != nil {
		return nil, fmt.Errorf("acme: storing the account: %w", err)
	}
	return key, nil
}

// prepare reads an authorization and, unless it is already valid, puts
// the TXT record of its DNS-01 challenge in etcd and waits until it is
// served. It returns the record's key and the challenge to accept.
func (m *Manager) prepare(ctx context.Context, c *acme.Client, s *concurrency.Session, url string) (string, *acme.Challenge, error) {
	z, err := c.GetAuthorization(ctx, url)
	if err != nil {
		return "", nil, fmt.Errorf("acme: authorization %s: %w", url, err)
	}
	if z.Status == acme.StatusValid {
		return "", nil, nil
	}
	var chal *acme.Challenge
	for _, ch := range z.Challenges {
		if ch.Type == "dns-01" {
			chal = ch
		}
	}
	if chal == nil {
		return "", nil, fmt.Errorf("acme: authorization for %s offers no dns-01 challenge", z.Identifier.Value)
	}
	value, err := c.DNS01ChallengeRecord(chal.Token)
	if err != nil {
		return "", nil, fmt.Errorf("acme: challenge for %s: %w", z.Identifier.Value, err)
	}
	name := "_acme-challenge." + strings.TrimPrefix(z.Identifier.Value, "*.")
	key := autoradio.ACMEChallengePrefix + name + "/" + value[:16]
	ectx, cancel := context.WithTimeout(ctx, etcdTimeout)
	defer cancel()
	if _, err := m.etcd.Put(ectx, key, value, clientv3.WithLease(s.Lease())); err != nil {
		return "", nil, fmt.Errorf("acme: publishing the challenge for %s: %w", z.Identifier.Value, err)
	}
	if m.cfg.Propagated != nil {
		if err := m.cfg.Propagated(ctx, name+".", value); err != nil {
			return key, nil, fmt.Errorf("acme: challenge for %s not served: %w", z.Identifier.Value, err)
		}
	}
	return key, chal, nil
}

// finalize has the order's certificate issued with a new key, and stores
// both in etcd.
func (m *Manager) finalize(ctx context.Context, c *acme.Client, o *acme.Order, names []string) error {
	key, keyPEM, err := newKey()
	if err != nil {
		return err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: names}, key)
	if err != nil {
		return fmt.Errorf("acme: certificate request: %w", err)
	}
	der, _, err := c.CreateCertFromOrder(ctx, o, csr, true)
	if err != nil {
		return fmt.Errorf("acme: finalizing the order: %w", err)
	}
	if len(der) == 0 {
		return errNoCertificate
	}
	leaf, err := x509.ParseCertificate(der[0])
	if err != nil {
		return fmt.Errorf("acme: the issued certificate: %w", err)
	}
	var chain []byte
	for _, d := range der {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	if err := m.putJSON(ctx, autoradio.ACMECertificateKey, autoradio.ACMECertificate{Certificate: string(chain), Key: string(keyPEM)}); err != nil {
		return fmt.Errorf("acme: storing the certificate: %w", err)
	}
	m.mu.Lock()
	m.leaf = leaf // not due again before the watch delivers it
	m.mu.Unlock()
	m.log.Info("certificate obtained", "names", leaf.DNSNames, "not_after", leaf.NotAfter, "renew_at", renewAt(leaf))
	return nil
}

// deleteRecords removes challenge records, even after ctx ended; their
// lease would remove them after a while anyway.
func (m *Manager) deleteRecords(keys []string) {
	for _, key := range keys {
		ctx, cancel := context.WithTimeout(context.Background(), etcdTimeout)
		if _, err := m.etcd.Delete(ctx, key); err != nil {
			m.log.Warn("removing a challenge record", "key", key, "err", err)
		}
		cancel()
	}
}

func (m *Manager) putJSON(ctx context.Context, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, etcdTimeout)
	defer cancel()
	_, err = m.etcd.Put(ctx, key, string(data))
	return err
}

// newKey makes a P-256 key, and returns it PEM-encoded too.
func newKey() (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("acme: new key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("acme: new key: %w", err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func parseKey(data []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("acme: no PEM key")
	}
	return x509.ParseECPrivateKey(b.Bytes)
}
