// Package browsertest runs the headless Chromium scripts of test/browser
// for the Go tests: Debian's chromium driven by playwright-core, both
// installed by make deps. A script prints one JSON document; the test
// decodes it and asserts in Go.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"autoradio/internal/testenv"
)

// Dir is test/browser, where the scripts and their node_modules are.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "test", "browser")
}

// Require fails the test when Chromium, Node.js or the scripts' npm
// packages are missing: a browser test that does not run proves nothing.
func Require(t testing.TB) {
	t.Helper()
	testenv.MustHaveBinaries(t, "node", "chromium")
	for _, pkg := range []string{"playwright-core", "hls.js"} {
		if _, err := os.Stat(filepath.Join(Dir(), "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("npm package %s is not installed in %s (run make deps)", pkg, Dir())
		}
	}
}

// Script runs node on test/browser/name with args and returns what it
// printed on stdout. A non-zero exit fails the test with the script's
// stderr. The script and the browser it started are killed, as a process
// group, when ctx ends or the script returns.
func Script(ctx context.Context, t testing.TB, name string, args ...string) []byte {
	t.Helper()
	Require(t)
	cmd := exec.CommandContext(ctx, "node", append([]string{name}, args...)...)
	cmd.Dir = Dir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if deadline, ok := ctx.Deadline(); ok {
		// lib.mjs reports its own time-out a little before ctx's, so that
		// the failure says where the script was.
		left := time.Until(deadline) - 2*time.Second
		cmd.Env = append(os.Environ(), "BROWSER_SCRIPT_TIMEOUT_MS="+strconv.FormatInt(max(left.Milliseconds(), 1000), 10))
	}
	start := time.Now()
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("browser script %s %v (after %s): %v\nstderr:\n%s", name, args, time.Since(start).Round(time.Millisecond), err, stderr.String())
	}
	return stdout.Bytes()
}
