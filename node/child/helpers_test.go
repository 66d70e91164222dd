package child

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"autoradio/internal/testenv"
)

// TestMain fails the package when a goroutine outlives the tests.
func TestMain(m *testing.M) {
	// A shell cannot trap a signal that was ignored when it started, and
	// a test run under nohup ignores SIGHUP: with a handler here, the
	// shells the tests start get its default disposition back.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP)
	goleak.VerifyTestMain(m)
}

// recorder collects a supervisor's events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) add(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// of returns the events of the given kind so far.
func (r *recorder) of(kind EventKind) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, ev := range r.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// waitCount waits until n events of kind happened and returns them.
func (r *recorder) waitCount(t *testing.T, kind EventKind, n int, timeout time.Duration) []Event {
	t.Helper()
	var evs []Event
	eventually(t, timeout, fmt.Sprintf("%d %s events", n, kind), func() bool {
		evs = r.of(kind)
		return len(evs) >= n
	})
	return evs
}

// eventually polls cond until it holds or fails the test after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if !cond() {
			return errors.New("waiting for " + what)
		}
		return nil
	})
}

// running is a supervisor whose Run goroutine the test owns.
type running struct {
	*Supervisor
	rec    *recorder
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// start runs a supervisor of cfg until the test ends or stop is called.
func start(t *testing.T, cfg Config) *running {
	t.Helper()
	rec := &recorder{}
	cfg.OnEvent = rec.add
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	r := &running{Supervisor: s, rec: rec, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends Run and returns how long it took to return; later calls
// return 0.
func (r *running) stop(t *testing.T) time.Duration {
	t.Helper()
	var took time.Duration
	r.once.Do(func() {
		began := time.Now()
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return 30s after its context ended")
		}
		took = time.Since(began)
	})
	return took
}

// shell is a Config that runs script with sh, in dir.
func shell(dir, script string) Config {
	return Config{
		Name:           "test-child",
		Path:           "/bin/sh",
		Args:           []string{"-c", script},
		Dir:            dir,
		BackoffInitial: 50 * time.Millisecond,
		BackoffMax:     200 * time.Millisecond,
		KillTimeout:    5 * time.Second,
		ReadyInterval:  10 * time.Millisecond,
	}
}

// fileExists is a readiness check that passes once path exists.
func fileExists(path string) func(context.Context) error {
	return func(context.Context) error {
		_, err := os.Stat(path)
		return err
	}
}

// alive reports whether pid is a live process: neither gone nor a zombie
// waiting for its parent (init reaps orphans; a zombie is already dead).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// exists reports whether /proc has an entry for pid, zombie or not.
func exists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	var pid int
	eventually(t, 5*time.Second, "pid file "+path, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		_, err = fmt.Sscan(string(b), &pid)
		return err == nil && pid > 0
	})
	return pid
}
