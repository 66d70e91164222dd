package httpfe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"autoradio/internal/audioframe"
	"autoradio/internal/backoff"
)

// resumeRetry paces the tries to move a held source to the master of the
// moment: a new master takes a few seconds to be elected and to apply
// the mount.
var resumeRetry = backoff.Backoff{Initial: 50 * time.Millisecond, Max: 250 * time.Millisecond}

// resumeTry bounds one try to move a held source: a master whose host
// died does not answer at all, and the next try may find another master.
const resumeTry = 2 * time.Second

// maxBacklogBytes bounds a held source's backlog whatever its bit rate
// (10 s of FLAC is 1.8 MB).
const maxBacklogBytes = 2 << 20

// errNoResume ends a held source that no master took in time.
var errNoResume = errors.New("no master's Icecast took the source in time")

// An unexpectedAnswer ends a held source: the new master's Icecast
// refused it for another reason than not knowing its mount yet.
type unexpectedAnswer struct{ code int }

func (e *unexpectedAnswer) Error() string {
	return fmt.Sprintf("the master's Icecast answered %d to the source's reconnection", e.code)
}

// resumeUpstream has the master of the moment's Icecast accept the
// source of r again: it sends r's head (without Expect and
// Content-Length: the body goes on) and reads Icecast's answer. A new
// master refuses the source (401, 403) until it has applied the mount
// and, for a handover, dropped its relay of it; no master, or one not
// reachable yet, is tried again the same way, for up to
// Config.SourceResume. Another answer ends the source.
func (h *Handler) resumeUpstream(ctx context.Context, r *http.Request, mount string) (*upstream, error) {
	end := time.Now().Add(h.cfg.SourceResume)
	b := resumeRetry
	for {
		tctx, cancel := context.WithTimeout(ctx, resumeTry)
		up, err := h.tryUpstream(tctx, r, mount, true)
		cancel()
		if err == nil {
			code, err := finalCode(up)
			switch {
			case err == nil && code >= 200 && code < 300:
				up.conn.SetDeadline(time.Time{})
				return up, nil
			case err == nil && code != http.StatusUnauthorized && code != http.StatusForbidden:
				up.conn.Close()
				return nil, &unexpectedAnswer{code: code}
			}
			up.conn.Close()
			h.log.Debug("source: the master's Icecast refused the moved source, trying again", "mount", mount, "new_master", up.master.Name, "code", code, "err", err)
		}
		wait := b.Next()
		if time.Until(end) < wait {
			return nil, errNoResume
		}
		if err := h.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// finalCode reads Icecast's answers on up past any 1xx, and returns the
// final status code.
func finalCode(up *upstream) (int, error) {
	code := up.code
	for code < 200 {
		var err error
		if code, _, err = readHeadBlock(up.in); err != nil {
			return 0, err
		}
	}
	return code, nil
}

// backlogLimits bound what a held source keeps: at most audio (the
// stream's own time, as its frames or pages say), and maxBacklogBytes.
type backlogLimits struct {
	audio time.Duration
}

// A backlog is what a held source has sent since its Icecast went away:
// the bytes from stream position start, and the points among them
// where a decoder can start. Beyond its limits it drops its oldest
// audio, up to a point.
type backlog struct {
	start  int64
	data   []byte
	points []audioframe.Point
	limits backlogLimits
	since  time.Time
}

// add appends p, the next bytes of the stream, and the points found
// since; it returns how many bytes it dropped to stay within bounds.
func (b *backlog) add(p []byte, points []audioframe.Point) int {
	b.data = append(b.data, p...)
	for _, pt := range points {
		if pt.Pos >= b.start {
			b.points = append(b.points, pt)
		}
	}
	dropped := 0
	for len(b.points) > 1 && (b.audio() > b.limits.audio || len(b.data) > maxBacklogBytes) {
		dropped += b.cut(b.points[1].Pos)
		b.points = b.points[1:]
	}
	if len(b.points) == 0 && len(b.data) > maxBacklogBytes {
		dropped += b.cut(b.start + int64(len(b.data)-maxBacklogBytes/2))
	}
	return dropped
}

// audio is how long the audio between the first and the last point
// plays.
func (b *backlog) audio() time.Duration {
	return b.points[len(b.points)-1].At - b.points[0].At
}

// cut drops the bytes before stream position pos, and returns how many.
func (b *backlog) cut(pos int64) int {
	n := int(pos - b.start)
	b.data = append(b.data[:0:0], b.data[n:]...)
	b.start = pos
	return n
}

// ready reports whether there is a point to replay the backlog from.
func (b *backlog) ready() bool { return len(b.points) > 0 }

// replay returns what to send a new Icecast: the header the first point
// needs, the bytes from it on, and how many bytes before it are dropped.
func (b *backlog) replay() (head, data []byte, dropped int) {
	pt := b.points[0]
	n := int(pt.Pos - b.start)
	return pt.Header, b.data[n:], n
}
