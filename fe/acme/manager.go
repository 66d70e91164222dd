package acme

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"golang.org/x/sync/errgroup"

	"autoradio"
	"autoradio/coordination"
	"autoradio/fe/tlscert"
	"autoradio/internal/backoff"
)

// certSource names the certificates from ACME in tlscert.Info.
const certSource = "acme"

// Manager follows the ACME state in etcd for one front-end, and orders
// certificates while it wins the election. Run it.
type Manager struct {
	cfg   Config
	etcd  *clientv3.Client
	certs *tlscert.Store
	log   *slog.Logger

	challenges atomic.Pointer[map[string][]string] // "_acme-challenge.<name>." -> TXT values

	mu         sync.Mutex
	stored     string            // the certificate record last seen
	leaf       *x509.Certificate // its leaf, nil when none or unusable
	lastStatus string            // the status record last seen
}

// New returns a Manager that serves the cluster's certificate through
// certs.
func New(cfg Config, etcd *clientv3.Client, certs *tlscert.Store) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, etcd: etcd, certs: certs, log: cfg.Logger.With("component", "acme")}
	m.challenges.Store(&map[string][]string{})
	return m, nil
}

// Run follows etcd and takes part in the election until ctx ends; it
// returns nil then.
func (m *Manager) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	opt := coordination.WithLogger(m.cfg.Logger)
	g.Go(func() error { return coordination.WatchPrefix(ctx, m.etcd, autoradio.ACMEPrefix, m.apply, opt) })
	g.Go(func() error { return coordination.RunSession(ctx, m.etcd, m.cfg.SessionTTL, m.campaign, opt) })
	return g.Wait()
}

// Challenges returns the TXT values of the pending challenges for a
// lower-case, fully qualified name (see dns.Config.Challenges).
func (m *Manager) Challenges(name string) []string {
	return (*m.challenges.Load())[name]
}

// apply takes in a snapshot of the ACME keys: it serves a new
// certificate, records a failed order, and publishes the challenges.
func (m *Manager) apply(snap coordination.Snapshot) {
	challenges := map[string][]string{}
	for key, kv := range snap.KVs {
		switch {
		case key == autoradio.ACMECertificateKey:
			m.applyCertificate(kv.Value)
		case key == autoradio.ACMEStatusKey:
			m.applyStatus(kv.Value)
		case strings.HasPrefix(key, autoradio.ACMEChallengePrefix):
			name, _, ok := strings.Cut(strings.TrimPrefix(key, autoradio.ACMEChallengePrefix), "/")
			if ok {
				name = strings.ToLower(name) + "."
				challenges[name] = append(challenges[name], string(kv.Value))
			}
		}
	}
	m.challenges.Store(&challenges)
}

func (m *Manager) applyCertificate(value []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if string(value) == m.stored {
		return
	}
	m.stored = string(value)
	c, err := parse[autoradio.ACMECertificate](value)
	if err == nil {
		err = m.certs.SetPEM([]byte(c.Certificate), []byte(c.Key), certSource)
	}
	if err != nil {
		m.log.Error("the certificate in etcd does not load", "key", autoradio.ACMECertificateKey, "err", err)
		m.leaf = nil
		return
	}
	m.leaf = m.certs.Certificate().Leaf
}

func (m *Manager) applyStatus(value []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if string(value) == m.lastStatus {
		return
	}
	m.lastStatus = string(value)
	st, err := parse[autoradio.ACMEStatus](value)
	if err != nil || st.Error == "" {
		return
	}
	m.certs.SetError(fmt.Errorf("acme: order by %s at %s failed: %s", st.Node, st.Time.Format(time.RFC3339), st.Error))
}

// campaign runs for the election with session s, and orders while it
// leads.
func (m *Manager) campaign(ctx context.Context, s *concurrency.Session) error {
	el := coordination.NewElection(s, autoradio.ACMEElection, coordination.WithLogger(m.cfg.Logger))
	return el.Run(ctx, m.cfg.NodeName, func(ctx context.Context) { m.lead(ctx, s) })
}

// lead orders a certificate whenever one is due, until ctx ends (the
// leadership is lost).
func (m *Manager) lead(ctx context.Context, s *concurrency.Session) {
	m.log.Info("ordering and renewing the certificate from this node")
	b := backoff.Backoff{Initial: m.cfg.RetryMin, Max: m.cfg.RetryMax, Jitter: true}
	for {
		names := m.cfg.Names()
		if wait := m.due(names); wait > 0 {
			t := time.NewTimer(min(wait, m.cfg.Check))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		err := m.order(ctx, s, names)
		if ctx.Err() != nil {
			return
		}
		m.putStatus(ctx, err)
		if err == nil {
			b.Reset()
			continue
		}
		m.log.Error("ordering a certificate failed; trying again later", "names", names, "err", err)
		if !b.Wait(ctx) {
			return
		}
	}
}

// due returns how long until a certificate for names must be ordered:
// 0 when none is stored, it lacks one of names, or it is two thirds
// through its lifetime. It waits while the names are not known.
func (m *Manager) due(names []string) time.Duration {
	if len(names) == 0 {
		return m.cfg.Check
	}
	m.mu.Lock()
	leaf := m.leaf
	m.mu.Unlock()
	if leaf == nil || !covers(leaf, names) {
		return 0
	}
	return max(time.Until(renewAt(leaf)), 0)
}

// putStatus records the outcome of an order in etcd.
func (m *Manager) putStatus(ctx context.Context, orderErr error) {
	st := autoradio.ACMEStatus{Node: m.cfg.NodeName, Time: time.Now().UTC()}
	if orderErr != nil {
		st.Error = orderErr.Error()
	}
	if err := m.putJSON(ctx, autoradio.ACMEStatusKey, st); err != nil {
		m.log.Warn("recording the order's outcome", "err", err)
	}
}

// errNoCertificate is returned when an order ends without a certificate.
var errNoCertificate = errors.New("acme: the order gave no certificate")
