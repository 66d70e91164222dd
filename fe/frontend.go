package fe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"

	"autoradio/fe/acme"
	"autoradio/fe/authguard"
	"autoradio/fe/dns"
	"autoradio/fe/hls"
	"autoradio/fe/httpfe"
	"autoradio/fe/lb"
	"autoradio/fe/tlscert"
)

// Config of a front-end. Zero fields take the defaults of the packages
// they are passed to.
type Config struct {
	// Domain is the cluster's DNS zone; required.
	Domain string
	// Nameservers are the zone's NS names (see dns.Config).
	Nameservers []string
	// DNSAddr is where DNS is served, UDP and TCP. Default ":53".
	DNSAddr string
	// DNSTTL and DNSMaxRecords shape the A/AAAA answers.
	DNSTTL        time.Duration
	DNSMaxRecords int
	// HTTPAddr is where HTTP is served. Default ":80".
	HTTPAddr string
	// HTTPSAddr is where HTTPS is served; empty: no HTTPS. Its
	// certificate comes from TLSFiles or from ACME.
	HTTPSAddr string
	// TLSFiles are the certificate and key files, watched for changes.
	TLSFiles tlscert.Files
	// ACME obtains the certificate when its Directory is set; its Names,
	// NodeName, Propagated and Logger are filled in from ACMENames and
	// the rest of the configuration.
	ACME acme.Config
	// ACMENames are the names of the certificate. Default: Domain,
	// stream.Domain and <node>.Domain for every node.
	ACMENames []string
	// RedirectPages and HSTS: see httpfe.Config.
	RedirectPages bool
	HSTS          time.Duration
	// DisableProxy redirects listeners to Icecast directly instead of
	// this node's /_stream/ proxy.
	DisableProxy bool
	// Policy is the load-balancing policy.
	Policy lb.Policy
	// LocalIcecast is host:port of this node's Icecast.
	LocalIcecast string
	// NodeName is this node's name, as radiod publishes it (see
	// httpfe.Config).
	NodeName string
	// SourceGuard limits source password guessing (see httpfe.Config).
	SourceGuard authguard.Config
	// SourceHold bounds how long a source is held while the master's
	// Icecast does not know its mount yet (see httpfe.Config).
	SourceHold time.Duration
	// SourceResume bounds how long an accepted source is held while it
	// moves to a new master, and SourceBacklog what it keeps meanwhile
	// (see httpfe.Config).
	SourceResume  time.Duration
	SourceBacklog time.Duration
	// SourceTee bounds how long a moved source is still fed to the
	// deposed master (see httpfe.Config).
	SourceTee time.Duration
	// StreamStallTimeout is how long a proxied stream's Icecast may send
	// nothing before the stream is taken from its source's tap (see
	// httpfe.Config).
	StreamStallTimeout time.Duration
	// HLS configures the HLS of MP3 and AAC mounts (see httpfe.Config).
	HLS hls.Config
	// HistoryInterval is the time between samples of the status page's
	// listener history (see httpfe.Config).
	HistoryInterval time.Duration
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Frontend is redirectord: the cluster view, DNS and HTTP.
type Frontend struct {
	cluster *Cluster
	certs   *tlscert.Store // nil without HTTPS
	acme    *acme.Manager  // nil without ACME
	// runCerts keeps the certificate up to date: files or ACME.
	runCerts func(context.Context) error
	dns      *dns.Server
	http     *httpfe.Server
	log      *slog.Logger
}

// New builds the front-end and binds its DNS and HTTP sockets, so that an
// address in use is reported before anything runs.
func New(cfg Config, etcd *clientv3.Client, reg prometheus.Registerer) (*Frontend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "redirectord")
	bal := lb.New(lb.Config{Policy: cfg.Policy})
	f := &Frontend{cluster: NewCluster(etcd, bal, cfg.Logger), log: log}
	switch {
	case cfg.HTTPSAddr != "":
		if err := f.newCerts(cfg, etcd, reg); err != nil {
			return nil, fmt.Errorf("fe: %w", err)
		}
	case cfg.ACME.Directory != "" || cfg.TLSFiles.Cert != "" || cfg.TLSFiles.Key != "":
		return nil, errors.New("fe: a certificate (files or ACME) without an HTTPS address to serve it on")
	}
	dcfg := dns.Config{
		Domain:      cfg.Domain,
		Nameservers: cfg.Nameservers,
		TTL:         cfg.DNSTTL,
		MaxRecords:  cfg.DNSMaxRecords,
		Logger:      cfg.Logger,
	}
	if f.acme != nil {
		dcfg.Challenges = f.acme.Challenges
	}
	handler, err := dns.NewHandler(dcfg, dns.BalancerZone(bal), reg)
	if err != nil {
		return nil, fmt.Errorf("fe: %w", err)
	}
	f.dns = &dns.Server{Addr: cfg.DNSAddr, Handler: handler, Logger: cfg.Logger}
	if err := f.dns.Listen(); err != nil {
		return nil, fmt.Errorf("fe: %w", err)
	}
	hcfg := httpfe.Config{
		Addr:          cfg.HTTPAddr,
		HTTPSAddr:     cfg.HTTPSAddr,
		RedirectPages: cfg.RedirectPages,
		HSTS:          cfg.HSTS,
		Domain:        cfg.Domain,
		DisableProxy:  cfg.DisableProxy,
		LocalIcecast:  cfg.LocalIcecast,
		NodeName:      cfg.NodeName,
		SourceGuard:   cfg.SourceGuard,
		SourceHold:    cfg.SourceHold,
		SourceResume:  cfg.SourceResume,
		SourceBacklog: cfg.SourceBacklog,
		SourceTee:     cfg.SourceTee,
		HLS:           cfg.HLS,

		StreamStallTimeout: cfg.StreamStallTimeout,

		HistoryInterval: cfg.HistoryInterval,
	}
	if f.certs != nil {
		hcfg.GetCertificate = f.certs.GetCertificate
	}
	f.http, err = httpfe.New(hcfg, f.cluster, reg, cfg.Logger)
	if err != nil {
		f.dns.Run(canceled()) // releases the DNS sockets
		return nil, fmt.Errorf("fe: %w", err)
	}
	return f, nil
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// DNSAddr and HTTPAddr are the bound addresses.
func (f *Frontend) DNSAddr() string  { return f.dns.LocalAddr() }
func (f *Frontend) HTTPAddr() string { return f.http.Addr().String() }

// HTTPSAddr is the bound HTTPS address, or "".
func (f *Frontend) HTTPSAddr() string {
	if a := f.http.HTTPSAddr(); a != nil {
		return a.String()
	}
	return ""
}

// Certificate describes the certificate served over HTTPS; ok is false
// without HTTPS.
func (f *Frontend) Certificate() (info tlscert.Info, ok bool) {
	if f.certs == nil {
		return tlscert.Info{}, false
	}
	return f.certs.Info(), true
}

// Run serves until ctx ends, then shuts everything down and waits. When
// a part fails, the others are shut down, and Run returns that failure.
func (f *Frontend) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	runs := []func(context.Context) error{f.cluster.Run, f.dns.Run, f.http.Run}
	if f.runCerts != nil {
		runs = append(runs, f.runCerts)
	}
	for _, run := range runs {
		g.Go(func() error { return run(ctx) })
	}
	f.log.Info("front-end serving", "dns", f.DNSAddr(), "http", f.HTTPAddr(), "https", f.HTTPSAddr())
	return g.Wait()
}

// Healthy reports whether the front-end knows at least one node that
// could serve listeners.
func (f *Frontend) Healthy() error {
	for _, n := range f.cluster.Nodes() {
		if n.IcecastOK {
			return nil
		}
	}
	return errors.New("no node with a working Icecast is known")
}
