// Command radiod runs on every node of an autoradio cluster: it keeps the
// local Icecast configured from etcd and running, publishes the node's
// presence and status, and takes part in the master election.
package main

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"autoradio"
	"autoradio/cmd/internal/cli"
	"autoradio/coordination/embedded"
	"autoradio/instrumentation"
	"autoradio/node"
)

type flags struct {
	cli.DaemonFlags
	sessionTTL   time.Duration
	drainTimeout time.Duration
	stateDir     string
	icecastCfg   string
	icecastBin   string
	icecastPort  int
	maxListeners int
	bwlimit      cli.BitsPerSecond
	iface        string
	liquidsoap   string
	httpAddr     string
	embedded     bool
	etcdDataDir  string
}

func main() { cli.Main(newRootCmd()) }

func newRootCmd() *cobra.Command {
	var f flags
	cmd := &cobra.Command{
		Use:   "radiod",
		Short: "Run an autoradio node: the local Icecast, configured from etcd",
		Long: `radiod runs on every node of an autoradio cluster. It supervises the local
Icecast with a configuration generated from the mounts stored in etcd (the
elected master serves the sources, every other node relays every mount from
it), publishes the node's presence and load for the front-ends, and takes part
in the master election.

On SIGTERM (systemctl stop, a package upgrade) a master hands over before it
stops: it resigns the election, so that another node takes the master role at
once, and keeps its Icecast serving until the new master serves the mounts, or
for --drain-timeout at most.

Every flag can also be set in the environment as AUTORADIO_<FLAG>, for
example AUTORADIO_ETCD_URLS or AUTORADIO_MAX_LISTENERS.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), &f) },
	}
	fs := cmd.Flags()
	f.Add(fs, "127.0.0.1:2112", "name of this node, unique in the cluster", "public IP address of this node")
	fs.DurationVar(&f.sessionTTL, "session-ttl", 5*time.Second, "TTL of this node's presence and elections: how fast a dead node is noticed")
	fs.DurationVar(&f.drainTimeout, "drain-timeout", 20*time.Second, "on SIGTERM, how long a master waits for the next master to serve the mounts, and for the other nodes to relay from it, before it stops; 0: no wait")
	fs.StringVar(&f.stateDir, "state-dir", "/var/lib/autoradio", "directory for the generated Icecast config and runtime files")
	fs.StringVar(&f.icecastCfg, "icecast-config", "", "path of the generated Icecast config (default: <state-dir>/icecast.xml)")
	fs.StringVar(&f.icecastBin, "icecast-bin", "icecast2", "Icecast program")
	fs.IntVar(&f.icecastPort, "icecast-port", autoradio.DefaultIcecastPort, "Icecast HTTP port")
	fs.IntVar(&f.maxListeners, "max-listeners", 1000, "listeners this node serves at most")
	fs.Var(&f.bwlimit, "bwlimit", "outgoing bandwidth (bits/s, e.g. 100M) above which no more listeners are sent here; 0: none")
	fs.StringVar(&f.iface, "interface", "", "network interface whose outgoing bandwidth is measured (default: those of the default route and of the --ip addresses, added up)")
	fs.StringVar(&f.liquidsoap, "liquidsoap-bin", "liquidsoap", "liquidsoap program, for transcoding mounts")
	fs.StringVar(&f.httpAddr, "http-addr", ":80", "HTTP address of this node's redirectord, whose proxied listeners are counted (empty: none)")
	fs.BoolVar(&f.embedded, "embedded-etcd", false, "run a single-member etcd in this process, on the first --etcd-urls address")
	fs.StringVar(&f.etcdDataDir, "etcd-data-dir", "", "data directory of the embedded etcd (default: <state-dir>/etcd)")
	return cmd
}

func run(ctx context.Context, f *flags) error {
	log, err := f.Prepare(ctx)
	if err != nil {
		return err
	}
	if f.embedded {
		srv, err := startEmbeddedEtcd(ctx, f)
		if err != nil {
			return err
		}
		defer srv.Close()
		log.Info("embedded etcd running", "url", srv.ClientURL())
	}
	etcd, err := autoradio.NewEtcdClient(f.Etcd)
	if err != nil {
		return err
	}
	defer etcd.Close()

	reg := instrumentation.NewRegistry()
	frontend, err := node.FrontendURL(f.httpAddr)
	if err != nil {
		return &cli.UsageError{Err: fmt.Errorf("--http-addr: %w", err)}
	}
	n, err := node.New(ctx, node.Config{
		Name:           f.Name,
		IPs:            f.IPs,
		IcecastPort:    f.icecastPort,
		StateDir:       f.stateDir,
		IcecastConfig:  f.icecastCfg,
		IcecastBin:     f.icecastBin,
		LiquidsoapBin:  f.liquidsoap,
		FrontendURL:    frontend,
		MaxListeners:   f.maxListeners,
		BandwidthLimit: float64(f.bwlimit),
		Interface:      f.iface,
		SessionTTL:     f.sessionTTL,
		DrainTimeout:   noWaitIfZero(f.drainTimeout),
		Logger:         log,
	}, etcd, reg)
	if err != nil {
		return err
	}
	monitor := instrumentation.NewMonitorMux(instrumentation.MonitorConfig{
		Gatherer: reg,
		Health:   func(context.Context) error { return n.Healthy() },
		Debug:    map[string]http.Handler{"node": n.DebugHandler()},
	})
	log.Info("radiod starting", "name", f.Name, "ips", f.IPs, "icecast_port", f.icecastPort)
	return cli.RunWithMonitor(ctx, f.MonitorAddr, monitor, log, n.Run)
}

// noWaitIfZero maps a duration flag's 0 (no wait) to the negative value
// that means it in node.Config, where 0 takes the default.
func noWaitIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// startEmbeddedEtcd runs etcd in this process on the first --etcd-urls
// address, with its peer port one above the client port.
func startEmbeddedEtcd(ctx context.Context, f *flags) (*embedded.Server, error) {
	endpoints := f.Etcd.Endpoints
	if len(endpoints) == 0 {
		endpoints = []string{autoradio.DefaultEtcdURL}
	}
	u, err := url.Parse(endpoints[0])
	if err != nil || u.Scheme != "http" || u.Port() == "" {
		return nil, &cli.UsageError{Err: fmt.Errorf("--embedded-etcd needs an http://HOST:PORT first --etcd-urls, got %q", endpoints[0])}
	}
	peer := *u
	port, _ := net.LookupPort("tcp", u.Port())
	peer.Host = net.JoinHostPort(u.Hostname(), fmt.Sprint(port+1))
	dir := cmp.Or(f.etcdDataDir, filepath.Join(f.stateDir, "etcd"))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded etcd: %w", err)
	}
	return embedded.Start(ctx, embedded.Config{Name: f.Name, DataDir: dir, ClientURL: u.String(), PeerURL: peer.String()})
}
