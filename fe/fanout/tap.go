package fanout

import (
	"cmp"
	"errors"
	"os"
	"slices"
	"time"
)

// A feed whose upstream stalls (its Icecast's relay waits on a master
// that died or was cut off), or no longer serves the mount live while no
// other Icecast does, streams the mount from its source itself: from a
// tap, at the front-end that holds the source's connection (Taps), which
// goes on reading it while no master takes it. The move is
// make-before-break like the others, and the splicer joins the tap's
// stream, which starts a little back from its live end, to what the
// listeners have: the source's bytes are the ones Icecast relays. The
// feed leaves the tap only for an Icecast that serves the mount under a
// master elected since it moved (Healthy), so that it does not go back
// and forth to the Icecast that stalled, or when the tap ends.

// tapping is the state of a feed that reads a tap: the master of the
// moment when it moved there ("" for none).
type tapping struct {
	master string
}

// readDeadline is the deadline of the next read from upstream, whose
// last data came at last: ReadTimeout after it; with taps, the feed
// wakes every ProbeInterval too, to notice a stall and a probe's result.
func (fd *feed) readDeadline(last time.Time) time.Time {
	cfg := fd.f.cfg
	if cfg.Taps == nil {
		return time.Now().Add(cfg.ReadTimeout)
	}
	end, wake := last.Add(cfg.ReadTimeout), time.Now().Add(cfg.ProbeInterval)
	if wake.Before(end) {
		return wake
	}
	return end
}

// waiting reports whether err, of a read whose upstream last sent data
// at last, is only the feed's wake-up: the upstream may stay silent up
// to ReadTimeout.
func (fd *feed) waiting(err error, last time.Time) bool {
	return fd.f.cfg.Taps != nil && errors.Is(err, os.ErrDeadlineExceeded) && time.Since(last) < fd.f.cfg.ReadTimeout
}

// stalled reports whether an upstream that is not a tap, which last
// sent data at last, has stalled.
func (fd *feed) stalled(last time.Time) bool {
	return fd.f.cfg.Taps != nil && fd.tap == nil && time.Since(last) >= fd.f.cfg.StallTimeout
}

// taps returns the taps of the mount, this node's first; none when they
// were tried less than StallTimeout ago, so that a mount whose source
// no front-end holds does not have them asked all the time.
func (fd *feed) taps() []Other {
	f := fd.f
	// Not for Ogg: a tap may join at a page of another link of a chained
	// stream (a source that starts a new logical stream per track), whose
	// headers the listeners never got.
	if f.cfg.Taps == nil || fd.sp.kind == kindOgg || time.Since(fd.tapTried) < f.cfg.StallTimeout {
		return nil
	}
	fd.tapTried = time.Now()
	return f.cfg.Taps(fd.mount)
}

// healthy returns the Icecasts a feed on a tap moves to, the local one
// first: those that serve the mount live under a master elected since
// the feed moved.
func (fd *feed) healthy() []Other {
	f := fd.f
	if f.cfg.Healthy == nil {
		return nil
	}
	localOK, others := f.cfg.Healthy(fd.mount, fd.tap.master)
	if localOK {
		return append([]Other{{Name: local, Upstream: f.cfg.Upstream}}, others...)
	}
	return others
}

// noteMaster records the master of the moment as the one the feed's
// upstream, from, serves the mount under, when Healthy says it does: a
// feed that moves to a tap later leaves it only under another master.
// The master at the time of the move would not do: the upstream may
// play the fallback for seconds, as the cluster learns of it, while a
// new master is elected.
func (fd *feed) noteMaster(from string) {
	f := fd.f
	if f.cfg.Taps == nil || f.cfg.Healthy == nil || fd.tap != nil {
		return
	}
	m := f.master()
	if m == "" {
		return
	}
	localOK, others := f.cfg.Healthy(fd.mount, "")
	if (from == local && localOK) || (from != local && slices.ContainsFunc(others, func(o Other) bool { return o.Name == from })) {
		fd.servedBy = m
	}
}

// tapMaster is the master a feed moving to a tap must see replaced
// before it leaves the tap: the one its upstream last served the mount
// under, else the master of the moment.
func (fd *feed) tapMaster() string {
	return cmp.Or(fd.servedBy, fd.f.master())
}

func (f *Fanout) master() string {
	if f.cfg.Master == nil {
		return ""
	}
	return f.cfg.Master()
}

// lostFor bounds how long after LocalLost the feeds that read the local
// Icecast look for a tap.
const lostFor = 10 * time.Second

// LocalLost tells the fan-out that the local Icecast's relays were just
// lost (the master's Icecast ended them: it died), so that it plays the
// fallback until they reconnect: the feeds that read it move to a tap
// now, rather than when the cluster learns of it (which waits for etcd,
// and etcd may have lost its leader with the master's host).
func (f *Fanout) LocalLost() { f.lost.Store(time.Now().UnixNano()) }

// localLostSince reports whether the local Icecast's relays were lost
// after t, less than lostFor ago.
func (f *Fanout) localLostSince(t time.Time) bool {
	at := time.Unix(0, f.lost.Load())
	return at.After(t) && time.Since(at) < lostFor
}
