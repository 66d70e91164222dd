package transcode

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Check runs "liquidsoap --check" on a script file: liquidsoap parses and
// type-checks it without running it. The error carries liquidsoap's own
// explanation, which may quote the script: redact it before logging.
func Check(ctx context.Context, liquidsoap, file string) error {
	out, err := exec.CommandContext(ctx, liquidsoap, "--check", file).CombinedOutput()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("liquidsoap --check %s: %w", file, ctx.Err())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return fmt.Errorf("liquidsoap --check %s: %w", file, err)
	}
	return fmt.Errorf("liquidsoap --check %s: %s", file, checkMessage(string(out)))
}

// checkMessage keeps the lines of liquidsoap's output that explain an
// error, on one line.
func checkMessage(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return "failed without a message"
	}
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, " | ")
}
