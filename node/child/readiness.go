package child

import (
	"context"
	"log/slog"
	"time"
)

// readiness polls Config.Ready for one process until it passes or its
// deadline passes.
type readiness struct {
	s        *Supervisor
	ctx      context.Context
	p        *process
	ticker   *time.Ticker // nil once settled
	deadline time.Time
}

// newReadiness starts polling; without a Ready check the child is ready at
// once.
func (s *Supervisor) newReadiness(ctx context.Context, p *process) *readiness {
	r := &readiness{s: s, ctx: ctx, p: p}
	if s.cfg.Ready == nil {
		r.passed()
		return r
	}
	r.ticker = time.NewTicker(s.cfg.ReadyInterval)
	r.deadline = time.Now().Add(s.cfg.ReadyTimeout)
	return r
}

// tick fires when the next check is due; nil once settled.
func (r *readiness) tick() <-chan time.Time {
	if r.ticker == nil {
		return nil
	}
	return r.ticker.C
}

// check runs the readiness check once. It returns false when the child
// failed to become ready in time.
func (r *readiness) check() bool {
	ctx, cancel := context.WithDeadline(r.ctx, r.deadline)
	err := r.s.cfg.Ready(ctx)
	cancel()
	switch {
	case err == nil:
		r.passed()
	case time.Now().After(r.deadline):
		r.close()
		r.s.log.Warn("child not ready in time", slog.Int("pid", r.p.pid),
			slog.Duration("timeout", r.s.cfg.ReadyTimeout), slog.Any("error", err))
		r.s.emit(Event{Kind: NotReady, PID: r.p.pid, Err: err})
		return false
	}
	return true
}

func (r *readiness) passed() {
	r.close()
	r.s.setReady()
	r.s.log.Info("child ready", slog.Int("pid", r.p.pid), slog.Duration("after", time.Since(r.p.started)))
	r.s.emit(Event{Kind: Ready, PID: r.p.pid})
}

func (r *readiness) close() {
	if r.ticker != nil {
		r.ticker.Stop()
		r.ticker = nil
	}
}
