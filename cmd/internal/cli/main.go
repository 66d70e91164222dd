package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit statuses of Run.
const (
	ExitOK      = 0
	ExitFailure = 1
	// ExitUsage means the command line was wrong: unknown command or flag,
	// missing required flag, wrong number of arguments.
	ExitUsage = 2
)

// UsageError marks an error in the command line itself. Run prints a hint to
// run --help after it and exits with ExitUsage.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Setup prepares a command tree for Run: errors are returned, not printed
// with the usage text; flag and argument errors become UsageErrors; and
// every command first takes the flags it was not given from the environment
// (BindEnv), before any PersistentPreRunE of the program runs. Run calls it;
// it may be called more than once.
func Setup(root *cobra.Command) {
	root.SilenceUsage = true
	root.SilenceErrors = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{err} })
	setupHooks(root, true)
}

func setupHooks(c *cobra.Command, isRoot bool) {
	if c.Args != nil {
		c.Args = usageArgs(c.Args)
	}
	// cobra runs only the nearest persistent pre-run hook, so every
	// command that has one must bind the environment too.
	if isRoot || c.PersistentPreRunE != nil || c.PersistentPreRun != nil {
		c.PersistentPreRunE = withEnv(c.PersistentPreRunE, c.PersistentPreRun)
		c.PersistentPreRun = nil
	}
	for _, sub := range c.Commands() {
		setupHooks(sub, false)
	}
}

func withEnv(next func(*cobra.Command, []string) error, legacy func(*cobra.Command, []string)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		// Binding twice (if Setup ran twice) changes nothing: the flags
		// set the first time count as given.
		if err := BindEnv(cmd); err != nil {
			return err
		}
		switch {
		case next != nil:
			return next(cmd, args)
		case legacy != nil:
			legacy(cmd, args)
		}
		return nil
	}
}

func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			var ue *UsageError
			if errors.As(err, &ue) {
				return err
			}
			return &UsageError{err}
		}
		return nil
	}
}

// Run executes root with args and ctx, prints a failure as one line
// "<prog>: <error>" on root's error output (stderr unless set with
// SetErr), and returns the exit status.
func Run(ctx context.Context, root *cobra.Command, args []string) int {
	Setup(root)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	prog := root.Name()
	fmt.Fprintf(root.ErrOrStderr(), "%s: %s\n", prog, oneLine(err))
	if isUsage(err) {
		fmt.Fprintf(root.ErrOrStderr(), "run '%s --help' for usage\n", prog)
		return ExitUsage
	}
	return ExitFailure
}

func isUsage(err error) bool {
	var ue *UsageError
	// cobra reports unknown subcommands and missing required flags with
	// plain errors.
	msg := err.Error()
	return errors.As(err, &ue) || strings.HasPrefix(msg, "unknown command ") ||
		strings.HasPrefix(msg, "required flag(s) ")
}

// oneLine joins the lines of a multi-line error (etcd and gRPC errors can
// have several) with "; ".
func oneLine(err error) string {
	var lines []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

// Main runs root with the process's arguments and exits with Run's status.
// SIGINT and SIGTERM cancel the command's context (cmd.Context()); a second
// signal kills the process the default way.
func Main(root *cobra.Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := Run(ctx, root, os.Args[1:])
	stop()
	os.Exit(code)
}
