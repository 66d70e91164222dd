package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// DefaultLogLevel is the default of --log-level.
const DefaultLogLevel = "info"

// AddLogLevelFlag adds --log-level (debug, info, warn or error; default
// info), storing into level. Other values are refused when the flag is set,
// so NewLogger never sees them.
func AddLogLevelFlag(fs *pflag.FlagSet, level *string) {
	*level = DefaultLogLevel
	fs.Var((*levelValue)(level), "log-level", "log level: debug, info, warn or error")
}

// NewLogger returns a text logger on stderr at level (see ParseLevel; an
// unknown level means info).
func NewLogger(level string) *slog.Logger { return NewLoggerTo(os.Stderr, level) }

// NewLoggerTo is NewLogger writing to w.
func NewLoggerTo(w io.Writer, level string) *slog.Logger {
	l, err := ParseLevel(level)
	if err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// ParseLevel parses debug, info, warn or error (any case; "warning" too).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q (use debug, info, warn or error)", s)
}

// levelValue is a pflag.Value that only accepts known levels.
type levelValue string

func (v *levelValue) String() string { return string(*v) }
func (v *levelValue) Type() string   { return "level" }
func (v *levelValue) Set(s string) error {
	if _, err := ParseLevel(s); err != nil {
		return err
	}
	*v = levelValue(strings.ToLower(s))
	return nil
}
