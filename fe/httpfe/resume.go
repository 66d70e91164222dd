package httpfe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"autoradio/internal/backoff"
)

// resumeRetry paces the tries to move a held source to the master of the
// moment: a new master takes a few seconds to be elected and to apply
// the mount.
var resumeRetry = backoff.Backoff{Initial: 50 * time.Millisecond, Max: 250 * time.Millisecond}

// resumeTry bounds one try to move a held source: a master whose host
// died does not answer at all, and the next try may find another master.
const resumeTry = 2 * time.Second

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
