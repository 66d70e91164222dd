package fanout

import (
	"context"
	"slices"
	"time"
)

// A feed moves between the local Icecast and other nodes' while it
// streams: every ProbeInterval it asks the cluster view (LocalLive,
// Others) whether the upstream it reads is still live, and whether the
// local Icecast is again. When a move is due it opens the new upstream
// first, in a probe, and goes on reading the old one; it switches only
// once the new one streams (make-before-break), so that a node that
// steps aside before its Icecast changes is left before listeners hear
// the change. With nothing better streaming, the feed stays where it is.

// A move is an upstream a feed switches to: its answer, where it comes
// from, and why; for a tap, the master when the feed moved.
type move struct {
	resp   *Response
	to     string
	why    string
	tap    bool
	master string
}

// A plan is where a feed should move, best first, and why: to Icecasts
// (cands), else to taps, for a stall of its upstream (stall) or because
// none of cands streams.
type plan struct {
	cands []Other
	taps  []Other
	why   string
	stall bool
}

// A probe opens the upstream a feed moves to, in a goroutine of its own,
// while the feed reads on. The feed's read owns it: it takes its result
// or stops it.
type probe struct {
	cancel context.CancelFunc
	done   chan *move // nil: no candidate streams
	stall  bool       // it looks for a tap because the upstream stalled
}

// probe starts a probe when a feed streaming from from, which last sent
// data at last, is due to move; nil when it is not.
func (fd *feed) probe(from string, last time.Time) *probe {
	pl := fd.due(from, last)
	if len(pl.cands)+len(pl.taps) == 0 {
		return nil
	}
	master := ""
	if len(pl.taps) > 0 {
		master = fd.tapMaster()
	}
	ctx, cancel := context.WithCancel(fd.ctx)
	p := &probe{cancel: cancel, done: make(chan *move, 1), stall: pl.stall}
	go func() {
		r, to := fd.openFirst(ctx, pl.cands)
		tap := false
		if r == nil && len(pl.taps) > 0 {
			r, to = fd.openFirst(ctx, pl.taps)
			tap = true
		}
		if r == nil {
			p.done <- nil
			return
		}
		// The connection lives in ctx: it ends with the body.
		r.Body = &probeBody{Body: r.Body, cancel: cancel}
		p.done <- &move{resp: r, to: to, why: pl.why, tap: tap, master: master}
	}()
	return p
}

// due returns where a feed streaming from from, which last sent data at
// last, should move: from a tap, to the Icecasts that serve the mount
// under a new master (Healthy); from an upstream that stalled, to a tap;
// back to the local Icecast once it serves the mount live; away from an
// upstream that no longer does (the local Icecast by LocalLive, another
// node by leaving Others, as a node stepping aside for a handover does),
// to the local Icecast if it does, else to the other nodes, else to a
// tap. None when the feed should stay.
func (fd *feed) due(from string, last time.Time) plan {
	f := fd.f
	if fd.tap != nil {
		return plan{cands: fd.healthy(), why: "a master elected since the move to the tap serves it live"}
	}
	if fd.stalled(last) {
		return plan{taps: fd.taps(), why: "the upstream sent nothing for " + f.cfg.StallTimeout.String(), stall: true}
	}
	if from == local && f.cfg.Taps != nil && f.localLostSince(fd.since) {
		return plan{taps: fd.taps(), why: "the local Icecast lost its relays"}
	}
	localLive := f.localLive(fd.mount)
	if from == local {
		if localLive || (f.cfg.Leave != nil && !f.cfg.Leave(fd.mount)) {
			return plan{}
		}
		return fd.orTaps(f.others(fd.mount), "the local Icecast no longer serves it live")
	}
	var cands []Other
	if localLive {
		cands = append(cands, Other{Name: local, Upstream: f.cfg.Upstream})
	}
	others := f.others(fd.mount)
	if slices.ContainsFunc(others, func(o Other) bool { return o.Name == from }) {
		return plan{cands: cands, why: "the local Icecast serves it live again"}
	}
	return fd.orTaps(append(cands, others...), "node "+from+" no longer serves it live")
}

// orTaps plans a move to cands, or to a tap when none streams (other
// nodes may report the mount live on the fallback, or be dead).
func (fd *feed) orTaps(cands []Other, why string) plan {
	return plan{cands: cands, taps: fd.taps(), why: why}
}

// openFirst requests the mount from each of ups in turn, in ctx, and
// returns the first answer that streams it and who gave it; nil when none
// does.
func (fd *feed) openFirst(ctx context.Context, ups []Other) (*Response, string) {
	for _, u := range ups {
		if r, err := u.Upstream.Open(ctx, fd.mount, fd.key.icy); streaming(r, err) {
			return r, u.Name
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, ""
}

// result returns the probe's move once it has ended (nil when nothing
// streamed); done is false while it runs. A nil probe has not ended.
func (p *probe) result() (m *move, done bool) {
	if p == nil {
		return nil, false
	}
	select {
	case m = <-p.done:
		if m == nil {
			p.cancel()
		}
		return m, true
	default:
		return nil, false
	}
}

// stop ends a probe whose result was not taken, closing what it opened,
// and waits for it.
func (p *probe) stop() {
	if p == nil {
		return
	}
	p.cancel()
	if m := <-p.done; m != nil {
		m.resp.Body.Close()
	}
}

// probeBody ends its probe's context with the body.
type probeBody struct {
	Body
	cancel context.CancelFunc
}

func (b *probeBody) Close() error {
	err := b.Body.Close()
	b.cancel()
	return err
}

// moved counts and logs a feed's move to to (a tap when tap), for why.
func (fd *feed) moved(to, why string, tap bool) {
	switch {
	case tap:
		fd.f.m.moves.WithLabelValues("tap").Inc()
		fd.f.log.Info("streaming a mount from its source, at a front-end's tap", "mount", fd.mount, "node", to, "reason", why)
		return
	case to == local:
		fd.f.m.moves.WithLabelValues("local").Inc()
		fd.f.log.Info("streaming a mount from the local Icecast again", "mount", fd.mount, "reason", why)
		return
	}
	fd.f.m.moves.WithLabelValues("other").Inc()
	fd.f.log.Info("streaming a mount from another node", "mount", fd.mount, "node", to, "reason", why)
}
