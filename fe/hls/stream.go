package hls

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"path"
	"strings"
	"sync"
	"time"

	"autoradio"
)

// A stream is a mount's segmenter: it reads the mount's feed and keeps its
// recent segments, which all the node's sessions of the mount share.
type stream struct {
	h      *HLS
	mount  string
	ctx    context.Context
	cancel context.CancelFunc
	ready  chan struct{} // closed at the first segment, or at the end

	mu   sync.Mutex
	f    format
	segs []*segment // consecutive, oldest first
	disc int64      // discontinuities that left segs
	err  error      // why the segmenter ended; nil while it runs
	used time.Time  // the last request
	once sync.Once  // closes ready
}

// errFormat is why a mount has no HLS.
var errFormat = errors.New("HLS serves MP3 and AAC (ADTS) mounts only")

// run reads the feed into segments until the stream is stopped or the
// feed ends.
func (s *stream) run() {
	defer s.h.wg.Done()
	s.h.m.streams.Inc()
	defer s.h.m.streams.Dec()
	err := s.cut()
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	s.once.Do(func() { close(s.ready) })
	s.h.forget(s)
	if s.ctx.Err() == nil {
		s.h.log.Warn("HLS segmenter ended", "mount", s.mount, "err", err)
	}
}

func (s *stream) cut() error {
	feed, err := s.h.src.Open(s.ctx, s.mount)
	if err != nil {
		return err
	}
	defer feed.Close()
	f, err := formatOf(feed.ContentType())
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.f = f
	s.mu.Unlock()
	c := newCutter(f, s.h.cfg.Target, s.add)
	for {
		p, err := feed.Next(s.ctx)
		if err != nil {
			return fmt.Errorf("hls: reading %s: %w", s.mount, err)
		}
		c.take(p, s.h.now())
	}
}

// Serves reports whether m is one of the mounts HLS can cut, as far as
// its configuration tells before a stream is opened: transcoded to MP3 or
// AAC, or named .mp3 or .aac. The stream's Content-Type decides in the
// end (formatOf); a mount named otherwise may still be served.
func Serves(m *autoradio.Mount) bool {
	if m.Transcoding != nil {
		return m.Transcoding.Codec == "mp3" || m.Transcoding.Codec == "aac"
	}
	switch strings.ToLower(path.Ext(m.Name)) {
	case ".mp3", ".aac":
		return true
	}
	return false
}

// formatOf returns the format of a stream of Content-Type ct.
func formatOf(ct string) (format, error) {
	t, _, _ := mime.ParseMediaType(ct)
	switch t {
	case "audio/mpeg", "audio/mp3", "audio/mpeg3":
		return formatMP3, nil
	case "audio/aac", "audio/aacp":
		return formatADTS, nil
	}
	return format{}, errFormat
}

// add appends a whole segment. One that does not follow the last (the
// clock jumped: the stream stalled) starts the list again, after a
// discontinuity.
func (s *stream) add(seg *segment) {
	s.mu.Lock()
	if n := len(s.segs); n > 0 && seg.seq != s.segs[n-1].seq+1 {
		s.h.log.Info("HLS segments start again after a jump in the stream's timing", "mount", s.mount,
			"last", s.segs[n-1].seq, "next", seg.seq)
		s.segs = nil
		s.disc++
	}
	s.segs = append(s.segs, seg)
	if n := len(s.segs) - s.h.cfg.Segments - 1; n >= 0 && s.segs[n].disc {
		s.disc++ // its discontinuity left the playlist
	}
	// Segments stay available a playlist's length after they leave it.
	if keep := 2 * s.h.cfg.Segments; len(s.segs) > keep {
		s.segs = append(s.segs[:0:0], s.segs[len(s.segs)-keep:]...)
	}
	s.mu.Unlock()
	s.h.m.segments.Inc()
	s.once.Do(func() { close(s.ready) })
}

// use notes a request at now.
func (s *stream) use(now time.Time) {
	s.mu.Lock()
	s.used = now
	s.mu.Unlock()
}

// idle tells whether the stream had no request since cutoff.
func (s *stream) idle(cutoff time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used.Before(cutoff)
}

// playlist returns the media playlist for session token, waiting for the
// first segment of a new stream.
func (s *stream) playlist(ctx context.Context, token string) ([]byte, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.segs) == 0 {
		return nil, s.err
	}
	segs := s.segs[max(0, len(s.segs)-s.h.cfg.Segments):]
	return mediaPlaylist(segs, s.disc, s.h.cfg.Target, s.f.ext, token), nil
}

// segment returns segment seq with its file extension and content type;
// nil when it is not (or no longer) there.
func (s *stream) segment(seq int64) (*segment, format) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.segs) == 0 {
		return nil, s.f
	}
	i := seq - s.segs[0].seq
	if i < 0 || i >= int64(len(s.segs)) {
		return nil, s.f
	}
	return s.segs[i], s.f
}

// wait waits for the first segment or the end of the stream.
func (s *stream) wait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.h.cfg.ReadyTimeout)
	defer cancel()
	select {
	case <-s.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("hls: waiting for the first segment of %s: %w", s.mount, ctx.Err())
	}
}
