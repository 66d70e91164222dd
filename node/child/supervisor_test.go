package child

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// assertReaped checks that no process the supervisor started is left, not
// even as a zombie: the supervisor is their parent, so it must reap them.
func assertReaped(t *testing.T, r *running) {
	t.Helper()
	for _, ev := range r.rec.of(Started) {
		if exists(ev.PID) {
			t.Errorf("child %d still in /proc after Run returned", ev.PID)
		}
	}
	if r.Running() || r.PID() != 0 {
		t.Errorf("after Run: Running()=%v PID()=%d, want false, 0", r.Running(), r.PID())
	}
}

func TestRestartWithBackoff(t *testing.T) {
	cfg := shell(t.TempDir(), "exit 3")
	r := start(t, cfg)
	started := r.rec.waitCount(t, Started, 5, 10*time.Second)
	r.stop(t)
	assertReaped(t, r)

	exits := r.rec.of(Exited)
	waits := r.rec.of(Restarting)
	want := []time.Duration{50, 100, 200, 200}
	for i, d := range want {
		d *= time.Millisecond
		if exits[i].ExitCode != 3 || exits[i].Expected {
			t.Errorf("exit %d: code %d expected %v, want 3 false", i, exits[i].ExitCode, exits[i].Expected)
		}
		if waits[i].Delay != d {
			t.Errorf("restart %d: delay %v, want %v", i, waits[i].Delay, d)
		}
		// The delay runs from the exit to the next start.
		gap := started[i+1].Time.Sub(exits[i].Time)
		if gap < d || gap > d+time.Second {
			t.Errorf("restart %d: started %v after the exit, want %v..%v", i, gap, d, d+time.Second)
		}
	}
	if got := r.Restarts(); got < 4 {
		t.Errorf("Restarts() = %d, want >= 4", got)
	}
}

func TestReloadSendsSignal(t *testing.T) {
	dir := t.TempDir()
	cfg := shell(dir, `trap 'echo hup >> hup' HUP; touch up; while :; do sleep 0.02; done`)
	cfg.Ready = fileExists(filepath.Join(dir, "up"))
	idle, _ := New(cfg)
	if err := idle.Reload(); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Reload before Run: %v, want ErrNotRunning", err)
	}
	r := start(t, cfg)
	r.rec.waitCount(t, Ready, 1, 5*time.Second)
	pid := r.PID()
	for n := 1; n <= 2; n++ {
		if err := r.Reload(); err != nil {
			t.Fatalf("Reload: %v", err)
		}
		eventually(t, 5*time.Second, "HUP marker", func() bool {
			b, _ := os.ReadFile(filepath.Join(dir, "hup"))
			return strings.Count(string(b), "hup") == n
		})
	}
	if r.PID() != pid || !r.Ready() || len(r.rec.of(Started)) != 1 {
		t.Errorf("after reload: PID %d (was %d), Ready %v, %d starts; want the same process",
			r.PID(), pid, r.Ready(), len(r.rec.of(Started)))
	}
	r.stop(t)
	assertReaped(t, r)
	if err := r.Reload(); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Reload after Run: %v, want ErrNotRunning", err)
	}
}

func TestStopWithStopSignal(t *testing.T) {
	dir := t.TempDir()
	cfg := shell(dir, `trap 'exit 7' TERM; touch up; while :; do sleep 0.02; done`)
	cfg.Ready = fileExists(filepath.Join(dir, "up"))
	r := start(t, cfg)
	r.rec.waitCount(t, Ready, 1, 5*time.Second)
	if took := r.stop(t); took > 2*time.Second {
		t.Errorf("stop took %v, want well under the 5s kill timeout", took)
	}
	assertReaped(t, r)
	ev := r.rec.of(Exited)[0]
	if ev.ExitCode != 7 || ev.Signal != 0 || !ev.Expected {
		t.Errorf("exit: code %d signal %v expected %v, want 7, none, true", ev.ExitCode, ev.Signal, ev.Expected)
	}
}

func TestKillAfterTimeout(t *testing.T) {
	dir := t.TempDir()
	cfg := shell(dir, `trap '' TERM; touch up; while :; do sleep 0.02; done`)
	cfg.Ready = fileExists(filepath.Join(dir, "up"))
	cfg.KillTimeout = 300 * time.Millisecond
	r := start(t, cfg)
	r.rec.waitCount(t, Ready, 1, 5*time.Second)
	took := r.stop(t)
	if took < cfg.KillTimeout || took > 3*time.Second {
		t.Errorf("stop took %v, want %v..3s", took, cfg.KillTimeout)
	}
	assertReaped(t, r)
	if ev := r.rec.of(Exited)[0]; ev.Signal != syscall.SIGKILL || ev.ExitCode != -1 {
		t.Errorf("exit: code %d signal %v, want -1 SIGKILL", ev.ExitCode, ev.Signal)
	}
}

// groupScript starts a grandchild that ignores SIGTERM and records its PID.
const groupScript = `sh -c 'trap "" TERM; echo $$ > gc.pid; exec sleep 1000' & touch up; wait`

// startWithGrandchild supervises groupScript and returns the grandchild's
// PID, which is killed at the end of the test in any case.
func startWithGrandchild(t *testing.T) (*running, int) {
	t.Helper()
	dir := t.TempDir()
	cfg := shell(dir, groupScript)
	cfg.Ready = fileExists(filepath.Join(dir, "up"))
	r := start(t, cfg)
	gc := readPID(t, filepath.Join(dir, "gc.pid"))
	t.Cleanup(func() { syscall.Kill(gc, syscall.SIGKILL) })
	return r, gc
}

func TestProcessGroupKilledOnStop(t *testing.T) {
	r, gc := startWithGrandchild(t)
	if !alive(gc) {
		t.Fatalf("grandchild %d not running", gc)
	}
	r.stop(t)
	assertReaped(t, r)
	eventually(t, 2*time.Second, "grandchild to die", func() bool { return !alive(gc) })
}

func TestCrashKillsGroupAndRestarts(t *testing.T) {
	r, gc := startWithGrandchild(t)
	first := r.rec.waitCount(t, Ready, 1, 5*time.Second)[0].PID

	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "orphaned grandchild to die", func() bool { return !alive(gc) })
	second := r.rec.waitCount(t, Ready, 2, 5*time.Second)[1].PID
	if second == first || r.PID() != second {
		t.Errorf("after crash: PID %d, ready PIDs %d then %d; want a new process", r.PID(), first, second)
	}
	if ev := r.rec.of(Exited)[0]; ev.Signal != syscall.SIGKILL || ev.Expected {
		t.Errorf("crash exit: signal %v expected %v, want SIGKILL false", ev.Signal, ev.Expected)
	}
	r.stop(t)
	assertReaped(t, r)
}

func TestReadyTimeoutRestarts(t *testing.T) {
	cfg := shell(t.TempDir(), `exec sleep 1000`)
	notYet := errors.New("not yet")
	cfg.Ready = func(context.Context) error { return notYet }
	cfg.ReadyTimeout = 200 * time.Millisecond
	r := start(t, cfg)
	r.rec.waitCount(t, Started, 2, 5*time.Second)
	nr := r.rec.of(NotReady)
	if len(nr) == 0 || !errors.Is(nr[0].Err, notYet) {
		t.Fatalf("NotReady events %v, want one with the check's error", nr)
	}
	if ev := r.rec.of(Exited)[0]; !ev.Expected || ev.Time.Sub(r.rec.of(Started)[0].Time) < cfg.ReadyTimeout {
		t.Errorf("first exit %+v: want the supervisor to stop it after %v", ev, cfg.ReadyTimeout)
	}
	if r.Ready() {
		t.Error("Ready() = true for a child that never passed its check")
	}
	r.stop(t)
	assertReaped(t, r)
}

func TestForcedRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := shell(dir, `exec sleep 1000`)
	r := start(t, cfg)
	first := r.rec.waitCount(t, Ready, 1, 5*time.Second)[0].PID
	r.Restart()
	second := r.rec.waitCount(t, Ready, 2, 5*time.Second)[1].PID
	if second == first {
		t.Fatalf("Restart kept PID %d", first)
	}
	if exists(first) {
		t.Errorf("old child %d not reaped after Restart", first)
	}
	if n := len(r.rec.of(Restarting)); n != 0 || r.Restarts() != 1 {
		t.Errorf("Restart: %d back-off waits, Restarts()=%d; want 0 and 1", n, r.Restarts())
	}
	r.stop(t)
	assertReaped(t, r)
}

func TestMissingProgram(t *testing.T) {
	rec := &recorder{}
	s, err := New(Config{Path: "autoradio-no-such-program", OnEvent: rec.add})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Run(ctx); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("Run = %v, want exec.ErrNotFound", err)
	}
	if len(rec.of(StartFailed)) != 1 {
		t.Errorf("events %v, want one StartFailed", rec.events)
	}
}

func TestRunOnlyOnce(t *testing.T) {
	r := start(t, shell(t.TempDir(), `exec sleep 1000`))
	r.rec.waitCount(t, Started, 1, 5*time.Second)
	if err := r.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Run = %v, want ErrAlreadyRunning", err)
	}
}

func TestConfigRequiresPath(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without Path succeeded")
	}
}
