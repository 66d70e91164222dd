package transcode

import (
	"cmp"
	"errors"
	"log/slog"
	"time"
)

// Config of a Manager. Zero fields take the defaults in their comments.
type Config struct {
	// Node is this node's name, the value of its candidacies; required.
	Node string
	// LocalHost and LocalPort are this node's Icecast, where transcoders
	// read their source mount; required.
	LocalHost string
	LocalPort int
	// Dir holds the scripts (they contain source passwords: the directory
	// is made 0700, the files 0600); required.
	Dir string
	// Liquidsoap is the liquidsoap program. Default: "liquidsoap".
	Liquidsoap string
	// CheckTimeout bounds "liquidsoap --check". Default: 60s.
	CheckTimeout time.Duration
	// KillTimeout is how long liquidsoap may take to stop after SIGTERM
	// before it is killed. Default: 3s.
	KillTimeout time.Duration
	// BackoffInitial and BackoffMax bound the delay before liquidsoap is
	// started again after it died. Default: 1s and 15s.
	BackoffInitial, BackoffMax time.Duration
	// Logger. Default: slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	switch {
	case c.Node == "":
		return errors.New("transcode: no node name")
	case c.LocalHost == "" || c.LocalPort == 0:
		return errors.New("transcode: no local Icecast address")
	case c.Dir == "":
		return errors.New("transcode: no script directory")
	}
	c.Liquidsoap = cmp.Or(c.Liquidsoap, "liquidsoap")
	c.CheckTimeout = cmp.Or(c.CheckTimeout, 60*time.Second)
	c.KillTimeout = cmp.Or(c.KillTimeout, 3*time.Second)
	c.BackoffInitial = cmp.Or(c.BackoffInitial, time.Second)
	c.BackoffMax = cmp.Or(c.BackoffMax, 15*time.Second)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	return nil
}
