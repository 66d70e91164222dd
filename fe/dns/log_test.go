package dns

import (
	"io"
	"log/slog"
)

// quietLogger keeps tests' output clean.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
