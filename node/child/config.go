package child

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"syscall"
	"time"
)

// Config describes the program a Supervisor runs and how it is supervised.
// Every optional field left at its zero value takes the default given in its
// comment.
type Config struct {
	// Name identifies the child in logs, events and errors, e.g. "icecast".
	// Default: the base name of Path.
	Name string
	// Path of the program; required. A name without a slash is looked up
	// in $PATH.
	Path string
	// Args are the arguments after the program name. They are not logged
	// unless LogArgs is set, because they may carry secrets.
	Args []string
	// Env is the child's whole environment ("KEY=value"); nil inherits the
	// supervisor's environment.
	Env []string
	// Dir is the child's working directory. Default: the supervisor's.
	Dir string
	// Credential, when set, runs the child as another user and groups; the
	// supervisor must be root. Programs that drop privileges themselves
	// (Icecast's <changeowner>, liquidsoap with settings.init.allow_root)
	// leave it nil.
	Credential *syscall.Credential

	// Logger receives one record per line the child writes on stdout or
	// stderr (attributes component=Name, stream, pid) and the supervisor's
	// own messages. Default: discard.
	Logger *slog.Logger
	// OutputLevel is the level of forwarded output lines. Default: Info.
	OutputLevel slog.Level
	// LineLevel, when set, chooses the level of each forwarded line
	// instead of OutputLevel, e.g. to log a program's access log lines at
	// Debug and its errors at Warn.
	LineLevel func(line string) slog.Level
	// LogArgs logs the arguments (through Redact) when the child starts.
	// Default: only the path is logged.
	LogArgs bool
	// Redact, when set, rewrites every string taken from the child before
	// it is logged: arguments and output lines. Use it to mask passwords.
	Redact func(string) string

	// Ready, when set, is polled every ReadyInterval after each start until
	// it returns nil: the child is ready then. The context ends at the
	// readiness deadline; Ready must return promptly when it does.
	Ready func(ctx context.Context) error
	// ReadyInterval is the pause between readiness checks. Default: 100ms.
	ReadyInterval time.Duration
	// ReadyTimeout bounds the wait for readiness after a start; a child
	// that is not ready in time is stopped and restarted with back-off.
	// Default: 30s.
	ReadyTimeout time.Duration

	// StopSignal is sent to the child's process group to stop it.
	// Default: SIGTERM.
	StopSignal syscall.Signal
	// KillTimeout is how long a stopping child may take before its process
	// group gets SIGKILL. Default: 5s.
	KillTimeout time.Duration
	// ReloadSignal is what Reload sends to the child (not its group).
	// Default: SIGHUP.
	ReloadSignal syscall.Signal

	// BackoffInitial is the delay before the first restart after an
	// unexpected exit; each further failure doubles it. Default: 500ms.
	BackoffInitial time.Duration
	// BackoffMax caps the restart delay. Default: 15s.
	BackoffMax time.Duration
	// BackoffReset: a child that stayed up at least this long counts as
	// healthy, and the next restart waits BackoffInitial again.
	// Default: 30s.
	BackoffReset time.Duration

	// OnEvent, when set, is called for every state change, in order, from
	// the goroutine running Run. It must not block nor call Run.
	OnEvent func(Event)
}

// outputDrainGrace is how long the supervisor keeps reading the child's
// output after the child exited, in case an escaped descendant holds the
// pipe open.
const outputDrainGrace = time.Second

func (c Config) withDefaults() (Config, error) {
	if c.Path == "" {
		return c, errors.New("child: config: Path is required")
	}
	c.Name = cmp.Or(c.Name, filepath.Base(c.Path))
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
	if c.Redact == nil {
		c.Redact = func(s string) string { return s }
	}
	c.ReadyInterval = cmp.Or(c.ReadyInterval, 100*time.Millisecond)
	c.ReadyTimeout = cmp.Or(c.ReadyTimeout, 30*time.Second)
	c.KillTimeout = cmp.Or(c.KillTimeout, 5*time.Second)
	c.BackoffInitial = cmp.Or(c.BackoffInitial, 500*time.Millisecond)
	c.BackoffMax = cmp.Or(c.BackoffMax, 15*time.Second)
	c.BackoffReset = cmp.Or(c.BackoffReset, 30*time.Second)
	c.StopSignal = cmp.Or(c.StopSignal, syscall.SIGTERM)
	c.ReloadSignal = cmp.Or(c.ReloadSignal, syscall.SIGHUP)
	if c.BackoffMax < c.BackoffInitial {
		c.BackoffMax = c.BackoffInitial
	}
	return c, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
