package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"autoradio/internal/etcdtest"
)

// buildBinary builds radioctl into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "radioctl")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs the radioctl binary in its own process group, killed with
// its group if it outlives limit, and returns its output and exit status.
func runBinary(t *testing.T, bin string, env []string, limit time.Duration, args ...string) (result, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	var exit *exec.ExitError
	code := 0
	switch {
	case ctx.Err() != nil:
		t.Fatalf("radioctl %q still running after %v", args, limit)
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("radioctl %q: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), code}, elapsed
}

func TestBinaryEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the radioctl binary")
	}
	bin := buildBinary(t)
	srv := etcdtest.Start(t)
	env := []string{
		"AUTORADIO_ETCD_URLS=" + srv.URL(),
		"AUTORADIO_DOMAIN=radio.example.com",
	}
	// --etcd-ca "": no TLS, whatever the machine's /etc/autoradio holds
	// (a CA named in the environment must exist).
	run := func(args ...string) result {
		r, _ := runBinary(t, bin, env, 20*time.Second, append([]string{"--etcd-ca", ""}, args...)...)
		return r
	}

	r := run("create-mount", "/live.ogg")
	if r.code != 0 || r.stderr != "" || field(r.stdout, "listen URL") != "http://radio.example.com/live.ogg" {
		t.Fatalf("create-mount: %+v", r)
	}
	user := field(r.stdout, "username")
	if show := run("show-mount", "/live.ogg"); show.code != 0 || !strings.Contains(show.stdout, "\nusername: "+user+"\n") {
		t.Errorf("show-mount: %+v, want a top-level username line (scripts/run-node reads it)", show)
	}
	checkFailure(t, run("create-mount", "/live.ogg"), 1, "radioctl: /live.ogg: mount already exists", nil)
	checkFailure(t, run("create-mount", "/live.m3u"), 1, "must not end in .m3u or .pls", nil)
	r = run("--bogus", "list-mounts")
	checkFailure(t, r, 2, "unknown flag: --bogus", nil)
	if !strings.Contains(r.stderr, "run 'radioctl --help' for usage") {
		t.Errorf("usage error without a hint: %q", r.stderr)
	}
	checkFailure(t, run("--etcd-urls", "http://127.0.0.1:1", "--timeout", "bogus", "list-mounts"), 2, `invalid argument "bogus" for "--timeout"`, nil)
	r, _ = runBinary(t, bin, append(env, "AUTORADIO_TIMEOUT=soon"), 20*time.Second, "list-mounts")
	checkFailure(t, r, 1, `environment AUTORADIO_TIMEOUT="soon": invalid value for --timeout`, nil)
	if r := run("list-mounts"); r.code != 0 || r.stdout != "/live.ogg\n" {
		t.Errorf("list-mounts: %+v", r)
	}

	// The default --timeout bounds the wait for an etcd that is not there.
	r, elapsed := runBinary(t, bin, env, 30*time.Second, "--etcd-urls", "http://127.0.0.1:1", "list-mounts")
	checkFailure(t, r, 1, "radioctl: etcd at http://127.0.0.1:1 unreachable: context deadline exceeded", nil)
	if elapsed < defaultTimeout-time.Second || elapsed > defaultTimeout+3*time.Second {
		t.Errorf("unreachable etcd: failed after %v, want about the default timeout %v", elapsed, defaultTimeout)
	}
	t.Logf("unreachable etcd: exit %d after %v", r.code, elapsed.Round(10*time.Millisecond))
}
