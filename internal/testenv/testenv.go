// Package testenv holds what the integration tests share: finding external
// programs (a failure in CI, a skip elsewhere), running processes that are
// killed with their process group when the test ends, waiting on conditions
// with a deadline, and building the project's binaries.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireBinaries skips the test when a program is missing, or fails it
// when CI=true: in CI a missing program is a broken set-up, not a reason to
// test less.
func RequireBinaries(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (run make deps)", name)
			}
			t.Skipf("%s is not installed", name)
		}
	}
}

// MustHaveBinaries fails the test when a program is missing, in CI or
// not: for tests whose point is to run those very programs, where a skip
// would report as compatible what was never tried.
func MustHaveBinaries(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			t.Fatalf("%s is not installed (run make deps)", name)
		}
	}
}

// RequireRoot skips (or fails in CI) a test that must run as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("this test must run as root")
		}
		t.Skip("needs root")
	}
}

// Eventually polls cond every interval until it returns nil, failing the
// test with cond's last error after Bound(timeout).
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	if err := Poll(context.Background(), timeout, cond); err != nil {
		t.Fatal(err)
	}
}

// Poll calls cond until it returns nil, ctx ends or Bound(timeout) passes.
func Poll(ctx context.Context, timeout time.Duration, cond func() error) error {
	timeout = Bound(timeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not within %v: %w", timeout, err)
		case <-tick.C:
		}
	}
}

// Proc is a process started by a test, in its own process group.
type Proc struct {
	Cmd  *exec.Cmd
	Name string
	out  *Buffer
	done chan struct{}
	err  error
}

// Start runs a program in its own process group. Its output is kept (see
// Output) and, when the test fails, logged. The whole group is killed when
// the test ends.
func Start(t testing.TB, name string, args ...string) *Proc {
	t.Helper()
	return StartCmd(t, exec.Command(name, args...))
}

// StartCmd is Start for a prepared command.
func StartCmd(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Cmd: cmd, Name: filepath.Base(cmd.Path), out: &Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.Name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() || os.Getenv("TEST_PROC_LOGS") != "" {
			t.Logf("output of %s (pid %d):\n%s", p.Name, cmd.Process.Pid, tail(p.Output(), procLogTail()))
		}
	})
	return p
}

// procLogTail is how much of a process's output a failed test logs:
// 8000 bytes, or TEST_PROC_LOGS bytes when that is a number (set, it
// also logs the output of the processes of tests that pass, to study a
// run).
func procLogTail() int {
	if n, err := strconv.Atoi(os.Getenv("TEST_PROC_LOGS")); err == nil && n > 0 {
		return n
	}
	return 8000
}

// PID of the process.
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Output is what the process wrote so far on stdout and stderr.
func (p *Proc) Output() string { return p.out.String() }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is how the process exited (nil for status 0), once Done is closed.
func (p *Proc) Err() error {
	<-p.done
	return p.err
}

// Signal sends sig to the process (not its group).
func (p *Proc) Signal(sig syscall.Signal) { _ = p.Cmd.Process.Signal(sig) }

// Kill sends SIGKILL to the process group and waits for the process.
func (p *Proc) Kill() {
	_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM to the process and waits up to timeout for it to
// exit, then kills its group.
func (p *Proc) Stop(timeout time.Duration) {
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
	}
	p.Kill()
}

// Buffer is a bytes.Buffer that a process or a logger may write to while
// the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]bool{}
)

// Binary builds one of the project's commands (radiod, redirectord or
// radioctl) once per test binary and returns its path.
func Binary(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "autoradio-bin-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = dir
	}
	path := filepath.Join(buildDir, name)
	if !built[name] {
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", path, "./cmd/"+name)
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, out)
		}
		built[name] = true
	}
	return path
}

// Cleanup removes what Binary built; call it from TestMain after m.Run.
func Cleanup() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}
