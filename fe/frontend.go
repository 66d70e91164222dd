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

	"autoradio/fe/authguard"
	"autoradio/fe/dns"
	"autoradio/fe/hls"
	"autoradio/fe/httpfe"
	"autoradio/fe/lb"
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
	// HLS configures the HLS of MP3 and AAC mounts (see httpfe.Config).
	HLS hls.Config
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Frontend is redirectord: the cluster view, DNS and HTTP.
type Frontend struct {
	cluster *Cluster
	dns     *dns.Server
	http    *httpfe.Server
	log     *slog.Logger
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
	handler, err := dns.NewHandler(dns.Config{
		Domain:      cfg.Domain,
		Nameservers: cfg.Nameservers,
		TTL:         cfg.DNSTTL,
		MaxRecords:  cfg.DNSMaxRecords,
		Logger:      cfg.Logger,
	}, dns.BalancerZone(bal), reg)
	if err != nil {
		return nil, fmt.Errorf("fe: %w", err)
	}
	f.dns = &dns.Server{Addr: cfg.DNSAddr, Handler: handler, Logger: cfg.Logger}
	if err := f.dns.Listen(); err != nil {
		return nil, fmt.Errorf("fe: %w", err)
	}
	f.http, err = httpfe.New(httpfe.Config{
		Addr:          cfg.HTTPAddr,
		Domain:        cfg.Domain,
		DisableProxy:  cfg.DisableProxy,
		LocalIcecast:  cfg.LocalIcecast,
		NodeName:      cfg.NodeName,
		SourceGuard:   cfg.SourceGuard,
		SourceHold:    cfg.SourceHold,
		SourceResume:  cfg.SourceResume,
		SourceBacklog: cfg.SourceBacklog,
		HLS:           cfg.HLS,
	}, f.cluster, reg, cfg.Logger)
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

// Run serves until ctx ends, then shuts everything down and waits. When
// a part fails, the others are shut down, and Run returns that failure.
func (f *Frontend) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, run := range []func(context.Context) error{f.cluster.Run, f.dns.Run, f.http.Run} {
		g.Go(func() error { return run(ctx) })
	}
	f.log.Info("front-end serving", "dns", f.DNSAddr(), "http", f.HTTPAddr())
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
