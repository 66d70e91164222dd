package fanout

import (
	"context"
	"slices"
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
// from, and why.
type move struct {
	resp *Response
	to   string
	why  string
}

// A probe opens the upstream a feed moves to, in a goroutine of its own,
// while the feed reads on. The feed's read owns it: it takes its result
// or stops it.
type probe struct {
	cancel context.CancelFunc
	done   chan *move // nil: no candidate streams
}

// probe starts a probe when a feed streaming from from is due to move;
// nil when it is not.
func (fd *feed) probe(from string) *probe {
	cands, why := fd.due(from)
	if len(cands) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(fd.ctx)
	p := &probe{cancel: cancel, done: make(chan *move, 1)}
	go func() {
		r, to := fd.openFirst(ctx, cands)
		if r == nil {
			p.done <- nil
			return
		}
		// The connection lives in ctx: it ends with the body.
		r.Body = &probeBody{Body: r.Body, cancel: cancel}
		p.done <- &move{resp: r, to: to, why: why}
	}()
	return p
}

// due returns where a feed streaming from from should move, best first,
// and why: back to the local Icecast once it serves the mount live; away
// from an upstream that no longer does (the local Icecast by LocalLive,
// another node by leaving Others, as a node stepping aside for a
// handover does), to the local Icecast if it does, else to the other
// nodes. None when the feed should stay.
func (fd *feed) due(from string) ([]Other, string) {
	f := fd.f
	localLive := f.localLive(fd.mount)
	if from == local {
		if localLive {
			return nil, ""
		}
		return f.others(fd.mount), "the local Icecast no longer serves it live"
	}
	var cands []Other
	if localLive {
		cands = append(cands, Other{Name: local, Upstream: f.cfg.Upstream})
	}
	others := f.others(fd.mount)
	if slices.ContainsFunc(others, func(o Other) bool { return o.Name == from }) {
		return cands, "the local Icecast serves it live again"
	}
	return append(cands, others...), "node " + from + " no longer serves it live"
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

// moved counts and logs a feed's move to to, for why.
func (fd *feed) moved(to, why string) {
	if to == local {
		fd.f.m.moves.WithLabelValues("local").Inc()
		fd.f.log.Info("streaming a mount from the local Icecast again", "mount", fd.mount, "reason", why)
		return
	}
	fd.f.m.moves.WithLabelValues("other").Inc()
	fd.f.log.Info("streaming a mount from another node", "mount", fd.mount, "node", to, "reason", why)
}
