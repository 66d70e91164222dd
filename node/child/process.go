package child

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"
)

var streams = []string{"stdout", "stderr"}

// process is one run of the child, from start until it is reaped.
type process struct {
	cmd     *exec.Cmd
	pid     int
	started time.Time
	// done is closed once the process is reaped, its leftover process
	// group killed and its output drained; state is valid then.
	done  chan struct{}
	state *os.ProcessState
}

// start starts the child in its own process group. A goroutine owned by
// the returned process reaps it; the caller must wait on done.
func (s *Supervisor) start() (*process, error) {
	out, err := newOutput(streams...)
	if err != nil {
		return nil, fmt.Errorf("%s: start: %w", s.cfg.Name, err)
	}
	cmd := s.command(out.writers[0], out.writers[1])
	if err := cmd.Start(); err != nil {
		out.closeAll()
		return nil, fmt.Errorf("%s: start: %w", s.cfg.Name, err)
	}
	p := &process{cmd: cmd, pid: cmd.Process.Pid, started: time.Now(), done: make(chan struct{})}
	out.start(streams, s.logLine(p.pid))
	go p.reap(out)
	s.logStart(p)
	return p, nil
}

func (s *Supervisor) command(stdout, stderr *os.File) *exec.Cmd {
	cmd := exec.Command(s.cfg.Path, s.cfg.Args...)
	cmd.Env = s.cfg.Env
	cmd.Dir = s.cfg.Dir
	// Pipes given as *os.File go to the child as they are: Wait then
	// does not wait for descendants that keep them open.
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true,
		Credential: s.cfg.Credential,
		// If the supervisor dies without stopping it, the child must not
		// keep its ports and files.
		Pdeathsig: syscall.SIGKILL,
	}
	return cmd
}

func (s *Supervisor) logStart(p *process) {
	attrs := []any{slog.Int("pid", p.pid), slog.String("path", s.cfg.Path)}
	if s.cfg.LogArgs {
		args := make([]string, len(s.cfg.Args))
		for i, a := range s.cfg.Args {
			args[i] = s.cfg.Redact(a)
		}
		attrs = append(attrs, slog.Any("args", args))
	}
	s.log.Info("child started", attrs...)
}

// reap waits for the process, kills what is left of its process group and
// drains its output.
func (p *process) reap(out *output) {
	p.cmd.Wait() // the exit status is in ProcessState
	p.state = p.cmd.ProcessState
	// Descendants left behind by a dead leader would hold the pipes and
	// the child's resources; they belong to the child, so they go too.
	signalGroup(p.pid, syscall.SIGKILL)
	out.wait(outputDrainGrace)
	close(p.done)
}

// exited reports whether the process has been reaped.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitEvent describes the reaped process.
func (p *process) exitEvent(expected bool) Event {
	ev := Event{Kind: Exited, Time: time.Now(), PID: p.pid, ExitCode: -1, Expected: expected}
	if p.state == nil {
		return ev
	}
	ev.ExitCode = p.state.ExitCode()
	if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		ev.Signal = ws.Signal()
	}
	return ev
}

// stop signals the process group, waits up to timeout, then kills the
// group; it returns once the process is reaped.
func (p *process) stop(sig syscall.Signal, timeout time.Duration, log *slog.Logger) {
	if err := signalGroup(p.pid, sig); err != nil {
		log.Warn("cannot stop child", slog.Any("error", err))
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return
	case <-t.C:
	}
	log.Warn("child did not stop in time, killing it", slog.Int("pid", p.pid), slog.Duration("timeout", timeout))
	if err := signalGroup(p.pid, syscall.SIGKILL); err != nil {
		log.Error("cannot kill child", slog.Any("error", err))
	}
	<-p.done
}

// signalGroup sends sig to every process of the group led by pid. A group
// that is already gone is not an error.
func signalGroup(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal process group %d: %w", pid, err)
	}
	return nil
}
