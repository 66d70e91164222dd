package cli

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"autoradio/instrumentation"
)

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
	var wg sync.WaitGroup
	defer wg.Wait()
	if addr != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := instrumentation.ListenAndServe(ctx, addr, monitor); err != nil {
				log.Error("monitoring server", "addr", addr, "err", err)
			}
		}()
	}
	err := run(ctx)
	cancel()
	return err
}
