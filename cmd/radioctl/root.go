package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"autoradio"
	"autoradio/cmd/internal/cli"
)

// defaultTimeout bounds each command's etcd work: clientv3 dials lazily and
// would otherwise wait forever for an etcd that is down.
const defaultTimeout = 5 * time.Second

// app holds the global flags and the outputs of one radioctl run.
type app struct {
	stdout, stderr io.Writer
	etcd           autoradio.EtcdConfig
	timeout        time.Duration
	domain         string
	logLevel       string
}

// newRootCmd builds the radioctl command tree writing to stdout and stderr;
// run it with cli.Run (tests do, in-process) or cli.Main.
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "radioctl",
		Short: "Manage the mounts of an autoradio cluster",
		Long: `radioctl manages the mounts of an autoradio cluster, drains its nodes for
maintenance and shows its state.
It talks to etcd directly. Every flag can also be set in the environment as
AUTORADIO_<FLAG> (upper case, '-' as '_'), e.g. AUTORADIO_ETCD_URLS.`,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	cli.AddEtcdFlags(pf, &a.etcd)
	cli.AddLogLevelFlag(pf, &a.logLevel)
	pf.DurationVar(&a.timeout, "timeout", defaultTimeout, "how long a command may wait for etcd")
	pf.StringVar(&a.domain, "domain", "", "the cluster's DNS domain, used to print source and listener URLs")
	root.AddCommand(
		a.createMountCmd(),
		a.createTranscodingMountCmd(),
		a.editMountCmd(),
		a.deleteMountCmd(),
		a.listMountsCmd(),
		a.showMountCmd(),
		a.statusCmd(),
		a.drainCmd(),
		a.undrainCmd(),
		a.backupCmd(),
		a.restoreCmd(),
	)
	return root
}

// withClient runs fn with a Client and a context bounded by --timeout, and
// turns a failure to reach etcd into a one-line error naming the URLs.
func (a *app) withClient(cmd *cobra.Command, fn func(context.Context, *autoradio.Client) error) error {
	return a.withClientFor(cmd, a.timeout, fn)
}

// withClientFor is withClient with fn bounded by timeout instead of
// --timeout, which still bounds connecting to etcd.
func (a *app) withClientFor(cmd *cobra.Command, timeout time.Duration, fn func(context.Context, *autoradio.Client) error) error {
	if a.timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, not %v", a.timeout)
	}
	cfg := a.etcd
	cfg.DialTimeout = a.timeout
	warning, err := cli.CheckEtcdFlags(cmd.Flags(), cfg)
	if err != nil {
		return err
	}
	if warning != "" {
		fmt.Fprintln(a.stderr, "radioctl: warning:", warning)
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	tctx, tcancel := context.WithTimeout(ctx, a.timeout)
	defer tcancel()
	if err := cfg.CheckTLS(tctx); err != nil {
		return err
	}
	etcd, err := autoradio.NewEtcdClient(cfg)
	if err != nil {
		return err
	}
	defer etcd.Close()
	log := cli.NewLoggerTo(a.stderr, a.logLevel).With("component", "radioctl")
	return cli.EtcdError(cfg, fn(ctx, autoradio.NewClient(etcd, log)))
}

// pathArg checks a mount path argument before anything talks to etcd.
func pathArg(args []string) (string, error) {
	return args[0], autoradio.ValidateMountPath(args[0])
}
