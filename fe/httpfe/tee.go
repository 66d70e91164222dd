package httpfe

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// teeWrite bounds each write to the old master's Icecast: a tee must
// never slow the source down, so the first write that does not fit ends
// the tee.
const teeWrite = 100 * time.Millisecond

// Why a tee ended, the "cause" label of autoradio_source_tee_ended_total.
const (
	teeClosed        = "closed"         // the old master's Icecast closed the connection: it let go
	teeWriteFailed   = "write_failed"   // a write to it failed or did not fit in teeWrite
	teeBound         = "bound"          // Config.SourceTee elapsed after the move
	teeMasterChanged = "master_changed" // the master changed again: the current connection is the old one now
	teeSourceEnded   = "source_ended"   // the source's connection ended, or it could not be moved
)

// A tee is a source's connection to the Icecast of the master it was
// moved away from, fed make-before-break: while the source moves to the
// new master (the new master's Icecast refuses it until it has applied
// the mount) and then, once the new master has it, until the old master
// lets go of it (its radiod disconnects the source once the new master
// serves the mount and no node relays the old one), so that the old
// master's listeners and relays hear no gap. The source goroutine owns
// it; the forward's old field only lets Close close its connection.
type tee struct {
	conn      net.Conn
	oldMaster string
	newMaster string    // "" until the new master took the source
	since     time.Time // the master changed
	moved     time.Time // the new master took the source; zero before
}

// startTee keeps up, the connection to the deposed master's Icecast, as
// the tee of a source about to be held (it is no longer the current
// one); nil when the forward is closed.
func (fw *forward) startTee(up net.Conn) *tee {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.closed {
		return nil
	}
	fw.up, fw.old = nil, up
	return &tee{conn: up, oldMaster: fw.master, since: time.Now()}
}

// teeMoved notes that the source was moved to newMaster, which starts
// the tee's bound.
func (fw *forward) teeMoved(t *tee, newMaster string) {
	if t == nil || !t.moved.IsZero() {
		return
	}
	t.moved, t.newMaster = time.Now(), newMaster
	fw.log.Info("source: moved make-before-break, still fed to the old master until it lets go",
		"old_master", t.oldMaster, "new_master", newMaster, "for", fw.teeFor,
		"since_master_change", time.Since(t.since).Round(time.Millisecond))
}

// feedTee writes p to the old master's Icecast, within teeWrite, and
// returns the tee, or nil once it ended.
func (fw *forward) feedTee(t *tee, p []byte) *tee {
	if t == nil || len(p) == 0 {
		return t
	}
	t.conn.SetWriteDeadline(deadline(teeWrite))
	if _, err := t.conn.Write(p); err != nil {
		fw.endTee(t, teeWriteCause(err))
		return nil
	}
	return t
}

// teeWriteCause names why a write to a tee failed: the old master closed
// the connection (its Icecast let go of the source, and the write came
// before the end of the connection was read), or it failed otherwise or
// did not fit in teeWrite.
func teeWriteCause(err error) string {
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		return teeClosed
	}
	return teeWriteFailed
}

// checkTee ends t once the old master closed its connection (lost) or
// its bound elapsed, and returns it, or nil once it ended.
func (fw *forward) checkTee(t *tee, lost bool) *tee {
	switch {
	case t == nil:
		return nil
	case lost:
		fw.endTee(t, teeClosed)
		return nil
	case !t.moved.IsZero() && time.Since(t.moved) >= fw.teeFor:
		fw.endTee(t, teeBound)
		return nil
	}
	return t
}

// endTee closes the tee's connection, counts and logs why it ended.
func (fw *forward) endTee(t *tee, cause string) {
	if t == nil {
		return
	}
	fw.mu.Lock()
	if fw.old == t.conn {
		fw.old = nil
	}
	fw.mu.Unlock()
	t.conn.Close()
	fw.m.sourceTeeEnded.WithLabelValues(cause).Inc()
	fed := time.Duration(0)
	if !t.moved.IsZero() {
		fed = time.Since(t.moved).Round(time.Millisecond)
	}
	fw.log.Info("source: no longer fed to the old master", "cause", cause,
		"old_master", t.oldMaster, "new_master", t.newMaster,
		"since_master_change", time.Since(t.since).Round(time.Millisecond), "after_move", fed)
}

// teeConn returns t's connection, nil without a tee.
func (t *tee) teeConn() net.Conn {
	if t == nil {
		return nil
	}
	return t.conn
}
