// Command redirectord is the front-end of an autoradio node: authoritative
// DNS for the cluster's domain and HTTP redirects, proxies, playlists and
// status pages, sending each listener to the least-loaded node and each
// source to the master.
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"autoradio"
	"autoradio/cmd/internal/cli"
	"autoradio/fe"
	"autoradio/fe/acme"
	"autoradio/fe/authguard"
	"autoradio/fe/fanout"
	"autoradio/fe/hls"
	"autoradio/fe/httpfe"
	"autoradio/fe/lb"
	"autoradio/fe/tlscert"
	"autoradio/instrumentation"
)

type flags struct {
	cli.DaemonFlags
	domain        string
	dnsAddr       string
	httpAddr      string
	httpsAddr     string
	tlsFiles      tlscert.Files
	acme          acme.Config
	acmeNames     []string
	acmeCA        string
	redirectPages bool
	hsts          time.Duration
	nameservers   []string
	dnsTTL        time.Duration
	dnsMaxRecords int
	proxy         bool
	policy        lb.Policy
	icecastPort   int
	guard         authguard.Config
	sourceHold    time.Duration
	sourceResume  time.Duration
	sourceBacklog time.Duration
	sourceTee     time.Duration
	streamStall   time.Duration
	historyEvery  time.Duration
	hls           hls.Config
}

func main() { cli.Main(newRootCmd()) }

func newRootCmd() *cobra.Command {
	var f flags
	cmd := &cobra.Command{
		Use:   "redirectord",
		Short: "Run an autoradio front-end: DNS and HTTP for the cluster's domain",
		Long: `redirectord runs on every node of an autoradio cluster. It is authoritative
DNS for the cluster's domain (answering with the least-loaded healthy nodes)
and an HTTP front-end: listeners of /<mount> are redirected to a node chosen by
the load balancer, sources (SOURCE or PUT) are relayed to the master's Icecast,
held for a while when the master's Icecast does not know their mount yet,
and moved to the new master without reconnecting when the master changes,
and so are their title updates (/admin/metadata, with the mount's source
credentials), /<mount>.m3u and .pls are playlists, /<mount>.m3u8 is HLS
(MP3 and AAC mounts, from the load balancer's node with the other nodes as
redundant variants), / is a status page and
/_status.json the same as JSON, with the listener history, now-playing JSON
and an event stream beside it (/_history.json, /_nowplaying/<mount>, /_events).

With --https-addr it serves the same over HTTPS too, with a certificate
from files (--tls-cert, --tls-key, read again when they change) or one the
cluster obtains and renews itself from an ACME CA (--acme), answering the
DNS-01 challenges with its own DNS and sharing it through etcd.

Every flag can also be set in the environment as AUTORADIO_<FLAG>, for
example AUTORADIO_DOMAIN or AUTORADIO_ETCD_URLS.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), &f) },
	}
	fs := cmd.Flags()
	f.Add(fs, "127.0.0.1:2113", "name of this node, as radiod publishes it", "IP address of this node, the first of which reaches the local Icecast")
	fs.StringVar(&f.domain, "domain", "", "the cluster's DNS domain, e.g. radio.example.com (required)")
	fs.StringVar(&f.dnsAddr, "dns-addr", ":53", "DNS address (UDP and TCP)")
	fs.StringVar(&f.httpAddr, "http-addr", ":80", "HTTP address")
	fs.StringVar(&f.httpsAddr, "https-addr", "", "HTTPS address, e.g. :443: the same streams, playlists, pages and sources as over HTTP, over TLS 1.2 or later; listeners who come over HTTPS are redirected to https://<node>.<domain>/_stream/... (default: no HTTPS)")
	fs.StringVar(&f.tlsFiles.Cert, "tls-cert", "", "PEM certificate chain served over HTTPS, read again within seconds when the file changes")
	fs.StringVar(&f.tlsFiles.Key, "tls-key", "", "PEM private key of --tls-cert, read again with it")
	fs.StringVar(&f.acme.Directory, "acme", "", "ACME directory URL, e.g. https://acme-v02.api.letsencrypt.org/directory: the cluster obtains and renews its HTTPS certificate itself, answering DNS-01 challenges with its own DNS, and keeps it in etcd (instead of --tls-cert/--tls-key)")
	fs.StringVar(&f.acme.Email, "acme-email", "", "contact e-mail of the ACME account")
	fs.StringSliceVar(&f.acmeNames, "acme-names", nil, "names of the ACME certificate, comma-separated; a wildcard such as *.radio.example.com is allowed (default: the domain, stream.<domain> and <node>.<domain> for every node)")
	fs.StringVar(&f.acmeCA, "acme-ca", "", "PEM file of the certificate authorities trusted when talking to the ACME server (default: the system's)")
	fs.BoolVar(&f.redirectPages, "https-redirect-pages", false, "redirect the status page (/) from HTTP to HTTPS; streams, playlists and sources stay on HTTP for the players that need it")
	fs.DurationVar(&f.hsts, "hsts", 0, "max-age of a Strict-Transport-Security header on HTTPS answers; 0: none (browsers would then refuse every plain-HTTP stream of the domain)")
	fs.StringSliceVar(&f.nameservers, "nameservers", nil, "NS names of the domain, comma-separated; the first is the SOA's primary (default: every healthy node, as <name>.<domain>)")
	fs.DurationVar(&f.dnsTTL, "dns-ttl", 5*time.Second, "TTL of the A/AAAA answers: how long resolvers may keep sending clients to a dead node")
	fs.IntVar(&f.dnsMaxRecords, "dns-max-records", 5, "most A/AAAA records in an answer for the domain")
	fs.BoolVar(&f.proxy, "enable-icecast-proxy", true, "redirect listeners to this front-end's /_stream/ proxy on the chosen node (false: to its Icecast port)")
	fs.Var(&f.policy, "lb-policy", "load balancing policy: weighted, least_loaded or random")
	fs.IntVar(&f.icecastPort, "icecast-port", autoradio.DefaultIcecastPort, "port of the local Icecast (as given to radiod)")
	fs.IntVar(&f.guard.MaxFailures, "source-max-failures", authguard.DefaultMaxFailures, "wrong source passwords an address may send within a minute before it is locked out (IPv6: per /64)")
	fs.DurationVar(&f.guard.Lockout, "source-lockout", authguard.DefaultLockout, "how long a first lockout lasts: the address's sources get 429 meanwhile; each further one lasts twice as long, up to an hour (or this, if longer)")
	fs.DurationVar(&f.sourceHold, "source-hold", httpfe.DefaultSourceHold, "how long a source with its mount's credentials is held, and the master tried again, while the master's Icecast refuses them because it has not applied the mount yet (a mount just created, a master just elected); then Icecast's 401 is passed on. Negative: no hold")
	fs.DurationVar(&f.sourceResume, "source-resume", httpfe.DefaultSourceResume, "how long a source that Icecast accepted is held, its connection kept, when the master changes or its Icecast goes away, while the front-end moves it to the master of the moment; then it is disconnected. Negative: disconnect at once, the source must reconnect")
	fs.DurationVar(&f.sourceBacklog, "source-backlog", httpfe.DefaultSourceBacklog, "how much of a held source's audio (in the stream's own time) is kept and replayed to the new master; older audio is dropped")
	fs.DurationVar(&f.sourceTee, "source-tee", httpfe.DefaultSourceTee, "when the master changes, a moved source is still fed to the old master's Icecast, make-before-break: while the new master does not take it yet, and after the move until the old master lets go of it (its radiod disconnects it once the new master serves the mount), a write to it fails or would block for 100 ms, or this much time elapses; its listeners and relays hear no gap. 0: the old master's connection is closed as soon as the master changes")
	fs.DurationVar(&f.streamStall, "stream-stall-timeout", fanout.DefaultStallTimeout, "how long the local Icecast may send a proxied stream nothing (its master's host died or was cut off) before the front-end streams the mount from its source itself, at the front-end that forwards it (/_tap/, for cluster nodes only), until an Icecast serves it under a new master; keep it below Icecast's source-timeout (4 s), so that listeners hear no fallback")
	fs.DurationVar(&f.historyEvery, "history-interval", time.Minute, "time between samples of the status page's listener history, which keeps 1440 of them (24 hours at the default); at start-up it is read from another node's front-end")
	fs.DurationVar(&f.hls.Target, "hls-target-duration", hls.DefaultTarget, "target duration of HLS segments: players start about three segments behind live, and move to another node within one when theirs fails")
	fs.IntVar(&f.hls.Segments, "hls-segments", hls.DefaultSegments, "segments listed in an HLS media playlist")
	_ = cmd.MarkFlagRequired("domain")
	return cmd
}

func run(ctx context.Context, f *flags) error {
	log, err := f.Prepare(ctx)
	if err != nil {
		return err
	}
	if f.acmeCA != "" {
		if f.acme.Roots, err = readRoots(f.acmeCA); err != nil {
			return err
		}
	}
	etcd, err := autoradio.NewEtcdClient(f.Etcd)
	if err != nil {
		return err
	}
	defer etcd.Close()
	reg := instrumentation.NewRegistry()
	front, err := fe.New(fe.Config{
		Domain:        f.domain,
		Nameservers:   f.nameservers,
		DNSAddr:       f.dnsAddr,
		DNSTTL:        f.dnsTTL,
		DNSMaxRecords: f.dnsMaxRecords,
		HTTPAddr:      f.httpAddr,
		HTTPSAddr:     f.httpsAddr,
		TLSFiles:      f.tlsFiles,
		ACME:          f.acme,
		ACMENames:     f.acmeNames,
		RedirectPages: f.redirectPages,
		HSTS:          f.hsts,
		DisableProxy:  !f.proxy,
		Policy:        f.policy,
		LocalIcecast:  net.JoinHostPort(f.IPs[0], strconv.Itoa(f.icecastPort)),
		NodeName:      f.Name,
		SourceGuard:   f.guard,
		SourceHold:    f.sourceHold,
		SourceResume:  f.sourceResume,
		SourceBacklog: f.sourceBacklog,
		SourceTee:     teeFlag(f.sourceTee),
		HLS:           f.hls,
		Logger:        log,

		StreamStallTimeout: f.streamStall,

		HistoryInterval: f.historyEvery,
	}, etcd, reg)
	if err != nil {
		return err
	}
	monitor := instrumentation.NewMonitorMux(instrumentation.MonitorConfig{
		Gatherer: reg,
		Health:   func(context.Context) error { return front.Healthy() },
		Debug:    map[string]http.Handler{"certificate": certificateHandler(front)},
	})
	log.Info("redirectord starting", "name", f.Name, "domain", f.domain)
	return cli.RunWithMonitor(ctx, f.MonitorAddr, monitor, log, front.Run)
}

// readRoots reads a PEM file of certificate authorities.
func readRoots(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--acme-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("--acme-ca: no certificate in %s", file)
	}
	return pool, nil
}

// certificateHandler serves /debug/certificate: the names, issuer and
// validity of the certificate served over HTTPS, where it came from and
// the last error loading or renewing it, as JSON; never its key.
func certificateHandler(front *fe.Frontend) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		info, ok := front.Certificate()
		if !ok {
			http.Error(w, "no HTTPS (--https-addr)", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(info)
	})
}

// teeFlag maps --source-tee to fe.Config.SourceTee, whose zero means its
// default: 0 (or less) turns the tee off.
func teeFlag(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
