package hls

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A Source opens mounts' streams: the front-end's shared feeds.
type Source interface {
	Open(ctx context.Context, mount string) (Feed, error)
}

// A Feed is an open stream of a mount, starting at a frame.
type Feed interface {
	// ContentType is the stream's Content-Type.
	ContentType() string
	// Next returns the next data, waiting for some; it must not be
	// modified.
	Next(ctx context.Context) ([]byte, error)
	// Close releases the feed.
	Close()
}

// HLS serves mounts as HLS. Close it to stop every segmenter.
type HLS struct {
	cfg      Config
	src      Source
	m        *metrics
	log      *slog.Logger
	now      func() time.Time
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	sessions sessions

	mu      sync.Mutex
	streams map[string]*stream
	closed  bool
}

// Errors of ServeMedia, when it has written nothing: the service is
// unavailable.
var (
	ErrFull   = errors.New("too many listeners")
	ErrClosed = errors.New("shutting down")
)

// New returns an HLS that cuts segments from src's feeds, whose metrics
// are registered with reg.
func New(cfg Config, src Source, reg prometheus.Registerer, log *slog.Logger) (*HLS, error) {
	if log == nil {
		log = slog.Default()
	}
	h := &HLS{cfg: cfg.withDefaults(), src: src, log: log, now: time.Now, streams: map[string]*stream{}}
	m, err := newMetrics(reg, func() float64 { return float64(h.sessions.total()) })
	if err != nil {
		return nil, err
	}
	h.m = m
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.wg.Add(1)
	go h.sweep()
	return h, nil
}

// Close stops every segmenter and waits for them.
func (h *HLS) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.cancel()
	h.wg.Wait()
}

// Counts returns the live sessions of each mount that has some.
func (h *HLS) Counts() map[string]int { return h.sessions.counts() }

// Sessions returns the live sessions of every mount.
func (h *HLS) Sessions() int { return h.sessions.total() }

// sweep ends expired sessions and stops idle segmenters, every second.
func (h *HLS) sweep() {
	defer h.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		now := h.now()
		h.sessions.expire(now.Add(-h.cfg.SessionTimeout))
		h.mu.Lock()
		for _, s := range h.streams {
			if s.idle(now.Add(-h.cfg.Idle)) {
				s.cancel()
			}
		}
		h.mu.Unlock()
	}
}

// stream returns mount's segmenter, starting it if needed.
func (h *HLS) stream(mount string) (*stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	s := h.streams[mount]
	if s == nil {
		ctx, cancel := context.WithCancel(h.ctx)
		s = &stream{h: h, mount: mount, ctx: ctx, cancel: cancel, ready: make(chan struct{}), used: h.now()}
		h.streams[mount] = s
		h.wg.Add(1)
		go s.run()
	}
	return s, nil
}

// forget removes s once it has ended, so that the next request starts a
// new segmenter.
func (h *HLS) forget(s *stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.streams[s.mount] == s {
		delete(h.streams, s.mount)
	}
	s.cancel()
}

// ServeMedia answers a request for file under mount's HLS path: the media
// playlist (index.m3u8) or a segment (<sequence>.mp3 or .aac). Requests
// carry a session token (a playlist without one is redirected to a new
// one); a new session is refused with ErrFull when full. It returns ErrFull
// or ErrClosed having written nothing; otherwise it has answered.
func (h *HLS) ServeMedia(w http.ResponseWriter, r *http.Request, mount, file string, full bool) error {
	token := r.URL.Query().Get(tokenParam)
	if !validToken(token) {
		if file != playlistFile {
			http.Error(w, "no session: start from the playlist", http.StatusForbidden)
			return nil
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.Redirect(w, r, r.URL.Path+"?"+MediaQuery(NewToken()), http.StatusFound)
		return nil
	}
	if !h.sessions.allowed(mount, token, full, h.cfg.MaxSessions) {
		return ErrFull
	}
	s, err := h.stream(mount)
	if err != nil {
		return err
	}
	s.use(h.now())
	served := false
	if file == playlistFile {
		served = h.servePlaylist(w, r, s, token)
	} else {
		served = h.serveSegment(w, s, file)
	}
	if served {
		// A player that gets only errors (a mount without a source, or
		// not MP3 or AAC) is no listener.
		h.sessions.touch(mount, token, h.now())
	}
	return nil
}

// servePlaylist answers with s's media playlist; false when it could not.
func (h *HLS) servePlaylist(w http.ResponseWriter, r *http.Request, s *stream, token string) bool {
	p, err := s.playlist(r.Context(), token)
	if err != nil {
		if r.Context().Err() == nil {
			h.streamError(w, s.mount, err)
		}
		return false
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/vnd.apple.mpegurl")
	hdr.Set("Cache-Control", "no-cache")
	w.Write(p)
	return true
}

// serveSegment answers with a segment of s; false when it could not.
func (h *HLS) serveSegment(w http.ResponseWriter, s *stream, file string) bool {
	name, ext, _ := strings.Cut(file, ".")
	seq, err := strconv.ParseInt(name, 10, 64)
	seg, f := s.segment(seq)
	if err != nil || seg == nil || ext != f.ext {
		w.Header().Set("Cache-Control", "no-cache")
		http.Error(w, "no such segment", http.StatusNotFound)
		return false
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("Content-Length", strconv.Itoa(len(seg.data)))
	hdr.Set("Cache-Control", "max-age="+strconv.Itoa(int(2*h.cfg.Target.Seconds()*float64(h.cfg.Segments))))
	w.Write(seg.data)
	return true
}

// A StatusError carries the status code that a feed's error asks for.
type StatusError interface{ StatusCode() int }

// streamError answers a playlist request whose stream has no segment.
func (h *HLS) streamError(w http.ResponseWriter, mount string, err error) {
	code := http.StatusServiceUnavailable
	var se StatusError
	switch {
	case errors.Is(err, errFormat):
		code = http.StatusNotFound
	case errors.As(err, &se):
		code = se.StatusCode()
	default:
		h.log.Warn("HLS playlist unavailable", "mount", mount, "err", err)
	}
	w.Header().Set("Cache-Control", "no-cache")
	msg := "stream unavailable"
	if errors.Is(err, errFormat) {
		msg = errFormat.Error()
	}
	http.Error(w, msg, code)
}
