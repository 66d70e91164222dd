// Package child supervises one external program, such as icecast2 or a
// liquidsoap transcoder, the way consul-template's child package does.
//
// The program runs in its own process group. When it exits unexpectedly it
// is started again after a back-off delay; when the context of Run ends it
// gets StopSignal, then SIGKILL after KillTimeout, and Run returns only
// once it has been reaped. Its stdout and stderr are forwarded line by line
// to a slog.Logger.
package child

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"autoradio/internal/backoff"
)

var (
	// ErrNotRunning is returned by Reload when no child process is running.
	ErrNotRunning = errors.New("child: not running")
	// ErrAlreadyRunning is returned by Run when another Run is in progress.
	ErrAlreadyRunning = errors.New("child: Run already in progress")
)

// Supervisor keeps one child program running. Its methods may be called
// from any goroutine.
type Supervisor struct {
	cfg       Config
	log       *slog.Logger
	restartCh chan struct{}
	active    atomic.Bool
	restarts  atomic.Uint64

	mu    sync.Mutex
	cur   *process // nil between runs
	ready bool
}

// New checks cfg and returns a Supervisor; nothing starts before Run.
func New(cfg Config) (*Supervisor, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Supervisor{
		cfg:       cfg,
		log:       cfg.Logger.With(slog.String("component", cfg.Name)),
		restartCh: make(chan struct{}, 1),
	}, nil
}

// Run starts the child and keeps it running until ctx ends, then stops it
// and returns nil once it has been reaped. If the very first start fails
// (e.g. the program does not exist) Run returns that error at once; later
// start failures are retried with back-off.
func (s *Supervisor) Run(ctx context.Context) error {
	if !s.active.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer s.active.Store(false)
	s.drainRestart()
	b := backoff.Backoff{Initial: s.cfg.BackoffInitial, Max: s.cfg.BackoffMax, ResetAfter: s.cfg.BackoffReset}
	for first := true; ; first = false {
		uptime, forced, err := s.runOnce(ctx)
		if err != nil && first {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		b.Ran(uptime)
		if forced {
			b.Reset()
		} else if !s.pause(ctx, b.Next()) {
			return nil
		}
		s.restarts.Add(1)
	}
}

// runOnce starts the child and supervises it until it is reaped. It
// reports how long it ran and whether Restart stopped it.
func (s *Supervisor) runOnce(ctx context.Context) (uptime time.Duration, forced bool, err error) {
	p, err := s.start()
	if err != nil {
		s.log.Error("child failed to start", slog.Any("error", err))
		s.emit(Event{Kind: StartFailed, Err: err})
		return 0, false, err
	}
	s.setCurrent(p)
	s.emit(Event{Kind: Started, PID: p.pid})
	forced = s.supervise(ctx, p)
	s.setCurrent(nil)
	return time.Since(p.started), forced, nil
}

// supervise waits until p is ready, then until it exits, ctx ends or a
// restart is requested. It returns once p is reaped, with whether Restart
// caused the stop.
func (s *Supervisor) supervise(ctx context.Context, p *process) (forced bool) {
	r := s.newReadiness(ctx, p)
	defer r.close()
	for {
		select {
		case <-p.done:
			s.exited(p, false)
			return false
		case <-ctx.Done():
			s.stopAndReport(p, "context ended")
			return false
		case <-s.restartCh:
			s.stopAndReport(p, "restart requested")
			return true
		case <-r.tick():
			if !r.check() {
				s.stopAndReport(p, "not ready in time")
				return false
			}
		}
	}
}

func (s *Supervisor) stopAndReport(p *process, why string) {
	s.log.Info("stopping child", slog.Int("pid", p.pid), slog.String("reason", why))
	p.stop(s.cfg.StopSignal, s.cfg.KillTimeout, s.log)
	s.exited(p, true)
}

func (s *Supervisor) exited(p *process, expected bool) {
	ev := p.exitEvent(expected)
	level := slog.LevelWarn
	if expected {
		level = slog.LevelInfo
	}
	s.log.Log(context.Background(), level, "child exited", slog.Int("pid", p.pid),
		slog.Int("code", ev.ExitCode), slog.String("signal", signalName(ev)),
		slog.Duration("uptime", time.Since(p.started)))
	s.emit(ev)
}

// pause waits d before the next start; Restart cuts it short. It returns
// false when ctx ended.
func (s *Supervisor) pause(ctx context.Context, d time.Duration) bool {
	s.log.Info("restarting child", slog.Duration("delay", d))
	s.emit(Event{Kind: Restarting, Delay: d})
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-s.restartCh:
	}
	return true
}

// Reload sends ReloadSignal to the child process (not to its group). It
// returns ErrNotRunning when no child is running.
func (s *Supervisor) Reload() error {
	p := s.current()
	if p == nil {
		return ErrNotRunning
	}
	// os.Process signals through a pidfd: a reaped child's PID, possibly
	// reused since, is never signalled.
	err := p.cmd.Process.Signal(s.cfg.ReloadSignal)
	if errors.Is(err, os.ErrProcessDone) {
		return ErrNotRunning
	}
	if err != nil {
		return fmt.Errorf("%s: reload: %w", s.cfg.Name, err)
	}
	s.log.Info("child reloaded", slog.Int("pid", p.pid), slog.String("signal", s.cfg.ReloadSignal.String()))
	return nil
}

// Restart asks Run to stop the child and start it again at once, without
// back-off; while Run waits to restart a crashed child, it cuts the wait
// short. It does not wait. Requests made before the restart happens are
// merged into one.
func (s *Supervisor) Restart() {
	select {
	case s.restartCh <- struct{}{}:
	default:
	}
}

// Running reports whether a child process is running (started, not yet
// reaped).
func (s *Supervisor) Running() bool { return s.current() != nil }

// PID is the running child's process ID, or 0.
func (s *Supervisor) PID() int {
	if p := s.current(); p != nil {
		return p.pid
	}
	return 0
}

// Ready reports whether the running child passed its readiness check.
func (s *Supervisor) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur != nil && s.ready && !s.cur.exited()
}

// Restarts counts the starts after the first one, whatever their cause,
// since the Supervisor was created; suitable for a metrics counter.
func (s *Supervisor) Restarts() uint64 { return s.restarts.Load() }

func (s *Supervisor) current() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || s.cur.exited() {
		return nil
	}
	return s.cur
}

func (s *Supervisor) setCurrent(p *process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur, s.ready = p, false
}

func (s *Supervisor) setReady() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready = true
}

func (s *Supervisor) drainRestart() {
	select {
	case <-s.restartCh:
	default:
	}
}

func (s *Supervisor) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(ev)
	}
}

func signalName(ev Event) string {
	if ev.Signal == 0 {
		return ""
	}
	return ev.Signal.String()
}
