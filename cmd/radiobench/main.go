// Command radiobench is a load client for streaming servers: N concurrent
// listeners of a URL, started at a given rate, reading for a duration. It
// reports bytes/s per listener, disconnects, errors and time to first
// byte, and optionally the CPU time and memory per listener of server
// processes on this machine. It works against any Icecast-like server,
// an autoradio cluster's front-end included (--follow for its redirects).
package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"autoradio/cmd/internal/cli"
	"autoradio/internal/loadgen"
)

func main() { cli.Main(newRootCmd()) }

type flags struct {
	cfg     loadgen.Config
	watch   []string
	json    bool
	timeout time.Duration
}

func newRootCmd() *cobra.Command {
	var f flags
	cmd := &cobra.Command{
		Use:   "radiobench URL",
		Short: "Open many concurrent listeners of a stream and report what they received",
		Long: `radiobench opens --listeners concurrent listeners of URL, starting --rate
of them per second, and keeps them reading until --duration has passed since
the start. It reports, over the window from the end of the ramp-up (plus --settle) to
the end:
bytes/s per listener still connected (min, p5, median), disconnects, failed
connection attempts, and time to first byte (p50, p99).

--watch NAME=PID[,PID...] (repeatable) also reports the CPU time per
listener-minute and the resident memory per listener of those processes
(read from /proc; the processes must run on this machine).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.cfg.URL = args[0]
			return run(cmd, &f)
		},
	}
	fs := cmd.Flags()
	fs.IntVarP(&f.cfg.Listeners, "listeners", "n", 100, "concurrent listeners")
	fs.Float64Var(&f.cfg.Rate, "rate", 200, "new listeners per second during the ramp-up (0: all at once)")
	fs.DurationVar(&f.cfg.Settle, "settle", 0, "wait this long after the ramp-up before measuring")
	fs.DurationVarP(&f.cfg.Duration, "duration", "d", loadgen.DefaultDuration, "length of the run, ramp-up included")
	fs.BoolVarP(&f.cfg.FollowRedirects, "follow", "L", true, "follow redirects (autoradio's GET /<mount> answers 302)")
	fs.DurationVar(&f.cfg.ConnectTimeout, "connect-timeout", loadgen.DefaultConnectTimeout, "limit on connecting and receiving the response headers")
	fs.DurationVar(&f.cfg.IdleTimeout, "idle-timeout", loadgen.DefaultIdleTimeout, "a listener that receives nothing for this long is disconnected")
	fs.IntVar(&f.cfg.Retries, "retries", 3, "retries of a failed connection attempt (each counts as an error)")
	fs.BoolVar(&f.cfg.Reconnect, "reconnect", false, "connect again after a disconnect (each still counts)")
	fs.StringArrayVar(&f.watch, "watch", nil, "NAME=PID[,PID...]: server processes to measure (repeatable)")
	fs.BoolVar(&f.json, "json", false, "print the report as JSON")
	return cmd
}

func run(cmd *cobra.Command, f *flags) error {
	for _, w := range f.watch {
		p, err := parseWatch(w)
		if err != nil {
			return &cli.UsageError{Err: err}
		}
		f.cfg.Watch = append(f.cfg.Watch, p)
	}
	if err := f.cfg.Validate(); err != nil {
		return &cli.UsageError{Err: err}
	}
	rep, err := loadgen.Run(cmd.Context(), f.cfg)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(out)
}

// parseWatch parses NAME=PID[,PID...].
func parseWatch(s string) (loadgen.Process, error) {
	name, list, ok := strings.Cut(s, "=")
	if !ok || name == "" || list == "" {
		return loadgen.Process{}, fmt.Errorf("--watch %q: want NAME=PID[,PID...]", s)
	}
	p := loadgen.Process{Name: name}
	for _, f := range strings.Split(list, ",") {
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			return loadgen.Process{}, fmt.Errorf("--watch %q: bad pid %q", s, f)
		}
		p.PIDs = append(p.PIDs, pid)
	}
	return p, nil
}
