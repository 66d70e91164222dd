package cli

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"autoradio"
	"autoradio/instrumentation"
)

// DaemonFlags are the flags radiod and redirectord share: etcd, log
// level, the node's name and addresses, and the monitoring address.
type DaemonFlags struct {
	Etcd        autoradio.EtcdConfig
	LogLevel    string
	Name        string
	IPs         []string
	MonitorAddr string

	fs *pflag.FlagSet // where Add defined them
}

// Add defines the flags on fs, with the daemon's own monitoring address
// and words for --name and --ip.
func (d *DaemonFlags) Add(fs *pflag.FlagSet, monitorAddr, nameHelp, ipHelp string) {
	d.fs = fs
	AddEtcdFlags(fs, &d.Etcd)
	AddLogLevelFlag(fs, &d.LogLevel)
	fs.StringVar(&d.Name, "name", DefaultName(), nameHelp)
	fs.StringSliceVar(&d.IPs, "ip", nil, ipHelp+" (repeatable; default: the addresses that hostname -f resolves to)")
	fs.StringVar(&d.MonitorAddr, "monitor-addr", monitorAddr, "address for /metrics, /healthz and /debug/ (empty: disabled)")
}

// Prepare checks the name and the etcd settings (CheckEtcdFlags, and
// CheckTLS against an etcd that already runs), fills in the addresses
// (NodeIPs) and returns the daemon's logger.
func (d *DaemonFlags) Prepare(ctx context.Context) (*slog.Logger, error) {
	if d.Name == "" {
		return nil, &UsageError{Err: errors.New("--name is empty and the host name is unknown")}
	}
	ips, err := NodeIPs(ctx, d.IPs)
	if err != nil {
		return nil, err
	}
	d.IPs = ips
	log := NewLogger(d.LogLevel)
	if d.fs != nil {
		warning, err := CheckEtcdFlags(d.fs, d.Etcd)
		if err != nil {
			return nil, err
		}
		if warning != "" {
			log.Warn(warning)
		}
	}
	if err := d.Etcd.CheckTLS(ctx); err != nil {
		return nil, err
	}
	return log, nil
}

// NodeIPs returns the --ip values, or the host's addresses when none was
// given, after checking that each is an IP address.
func NodeIPs(ctx context.Context, ips []string) ([]string, error) {
	if len(ips) == 0 {
		var err error
		if ips, err = DefaultIPs(ctx); err != nil {
			return nil, err
		}
	}
	return ips, CheckIPs(ips)
}

// RunWithMonitor runs a daemon's main loop and, when addr is not empty, its
// monitoring server (see instrumentation.NewMonitorMux) beside it. The
// server stops when run returns; RunWithMonitor returns run's error after
// the server has stopped.
func RunWithMonitor(ctx context.Context, addr string, monitor http.Handler, log *slog.Logger, run func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
	if addr != "" {
		g.Go(func() error {
			// The daemon goes on without its monitoring server.
			if err := instrumentation.ListenAndServe(ctx, addr, monitor); err != nil {
				log.Error("monitoring server", "addr", addr, "err", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		defer cancel()
		return run(ctx)
	})
	return g.Wait()
}
