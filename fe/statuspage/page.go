package statuspage

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"autoradio"
)

// Paths served by a Page besides "/".
const (
	StatusPath     = "/_status.json"
	NowPlayingPath = "/_nowplaying.json" // every mount
	nowPlayingDir  = "/_nowplaying"      // /_nowplaying/<mount>: one mount
	EventsPath     = "/_events"
)

// Config of a Page. Zero fields take the defaults in their comments.
type Config struct {
	// Domain is the cluster's domain, the page's heading.
	Domain string
	// NodeName is this node's name: its peers are the other nodes.
	NodeName string
	// HTTPPort is the front-end port of every node, where peers' history
	// is read at start-up. Default 80.
	HTTPPort int
	// HistoryInterval is the time between samples of the listener
	// history. Default 1m.
	HistoryInterval time.Duration
	// HistorySize is how many samples are kept. Default 1440 (24 hours
	// of one-minute samples).
	HistorySize int
	// EventInterval is how often the cluster's status is compared with
	// the last one for the event stream. Default 500ms.
	EventInterval time.Duration
	// Heartbeat is the time between keep-alive comments on an idle event
	// stream. Default 15s.
	Heartbeat time.Duration
	// WriteTimeout disconnects an event stream that accepts nothing for
	// this long. Default 10s.
	WriteTimeout time.Duration
	// MaxSubscribers bounds the open event streams; more get 503.
	// Default 1000.
	MaxSubscribers int
	// HLS reports whether a mount is also served as /<mount>.m3u8: the
	// page links it and offers it to browsers that need it. Nil: none is.
	HLS func(*autoradio.Mount) bool
	// Logger. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	c.HTTPPort = cmp.Or(c.HTTPPort, 80)
	c.HistoryInterval = cmp.Or(c.HistoryInterval, time.Minute)
	c.HistorySize = cmp.Or(c.HistorySize, 1440)
	c.EventInterval = cmp.Or(c.EventInterval, 500*time.Millisecond)
	c.Heartbeat = cmp.Or(c.Heartbeat, 15*time.Second)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, 10*time.Second)
	c.MaxSubscribers = cmp.Or(c.MaxSubscribers, 1000)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Page serves the status page and its feeds. Run keeps its history and
// event stream going; without Run they stay empty, the rest works.
type Page struct {
	cfg     Config
	cluster Cluster
	log     *slog.Logger
	hist    *history
	hub     *hub
	peers   *http.Client
}

// New returns a Page over cluster.
func New(cfg Config, cluster Cluster) *Page {
	cfg = cfg.withDefaults()
	return &Page{
		cfg: cfg, cluster: cluster,
		log:   cfg.Logger.With("component", "statuspage"),
		hist:  newHistory(cfg.HistoryInterval, cfg.HistorySize),
		hub:   newHub(cfg.MaxSubscribers),
		peers: &http.Client{Timeout: 2 * time.Second},
	}
}

// Owns reports whether the Page serves path p.
func Owns(p string) bool {
	switch p {
	case "/", StatusPath, HistoryPath, NowPlayingPath, EventsPath:
		return true
	}
	return strings.HasPrefix(p, nowPlayingDir+"/")
}

// Status returns the cluster's status, with today's peaks.
func (p *Page) Status() Status {
	st := Build(p.cluster, p.cfg.HLS)
	peaks := p.hist.peaks(time.Now())
	for i := range st.Mounts {
		m := &st.Mounts[i]
		m.PeakToday = max(peaks[m.Path], m.Listeners)
	}
	st.PeakToday = max(peaks[""], st.Listeners)
	return st
}

// Run seeds the history from a peer, then samples the listeners every
// HistoryInterval and feeds the event stream every EventInterval, until
// ctx ends. The cluster's nodes may not be known yet when it starts: it
// tries the peers again every seedRetry for seedFor.
func (p *Page) Run(ctx context.Context) error {
	p.hub.update(p.Status())
	p.hist.add(time.Now(), Build(p.cluster, nil))
	sample := time.NewTicker(p.cfg.HistoryInterval)
	defer sample.Stop()
	events := time.NewTicker(p.cfg.EventInterval)
	defer events.Stop()
	retry := time.NewTicker(seedRetry)
	defer retry.Stop()
	seedC, seedUntil := retry.C, time.Now().Add(seedFor)
	if p.hist.seedFromPeers(ctx, p.peers, p.peerURLs(), p.log) {
		seedC = nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-sample.C:
			p.hist.add(now, Build(p.cluster, nil))
		case <-events.C:
			p.hub.update(p.Status())
		case now := <-seedC:
			if p.hist.seedFromPeers(ctx, p.peers, p.peerURLs(), p.log) || now.After(seedUntil) {
				seedC = nil
			}
		}
	}
}

// How long, and how often, Run tries to seed the history from a peer.
const seedFor, seedRetry = 30 * time.Second, 2 * time.Second

// peerURLs are the front-ends of the other nodes.
func (p *Page) peerURLs() []string {
	var out []string
	for _, n := range p.cluster.Nodes() {
		if n.Name == p.cfg.NodeName || len(n.IPs) == 0 {
			continue
		}
		out = append(out, "http://"+net.JoinHostPort(n.IPs[0], strconv.Itoa(p.cfg.HTTPPort)))
	}
	return out
}

// ServeHTTP answers GET and HEAD on the paths that Owns reports.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.Path; {
	case path == "/":
		p.serveHTML(w, r)
	case path == StatusPath:
		writeJSON(w, p.Status())
	case path == HistoryPath:
		writeJSON(w, p.hist.data())
	case path == NowPlayingPath:
		st := p.Status()
		out := make([]TitleEvent, 0, len(st.Mounts))
		for _, m := range st.Mounts {
			out = append(out, nowPlaying(m))
		}
		writeJSON(w, out)
	case path == EventsPath:
		p.serveEvents(w, r)
	default:
		p.serveNowPlaying(w, r, strings.TrimPrefix(path, nowPlayingDir))
	}
}

func (p *Page) serveNowPlaying(w http.ResponseWriter, r *http.Request, mount string) {
	for _, m := range p.Status().Mounts {
		if m.Path == mount {
			writeJSON(w, nowPlaying(m))
			return
		}
	}
	cors(w)
	http.Error(w, "no such mount", http.StatusNotFound)
}

func cors(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
}

func writeJSON(w http.ResponseWriter, v any) {
	cors(w)
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-cache")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away
}

// serveEvents streams events until the client leaves, the subscriber is
// dropped, or a write times out. ?mount=/m keeps the title and listeners
// events of one mount (and no status events).
func (p *Page) serveEvents(w http.ResponseWriter, r *http.Request) {
	only := r.URL.Query().Get("mount")
	hdr := w.Header()
	cors(w)
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	if r.Method == http.MethodHead {
		return
	}
	ch, last, cancel := p.hub.subscribe()
	if ch == nil {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "too many event streams", http.StatusServiceUnavailable)
		return
	}
	defer cancel()
	rc := http.NewResponseController(w)
	send := func(evs ...event) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(p.cfg.WriteTimeout))
		var b bytes.Buffer
		for _, ev := range evs {
			if only != "" && ev.mount != only {
				continue
			}
			fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", ev.name, ev.data)
		}
		if _, err := w.Write(b.Bytes()); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// A new subscriber gets the current state at once.
	if last == nil { // before Run's first update
		st := p.Status()
		last = &st
	}
	if _, err := w.Write([]byte("retry: 3000\n\n")); err != nil || !send(changes(nil, last)...) {
		return
	}
	beat := time.NewTicker(p.cfg.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-ch:
			if !ok || !send(ev) {
				return
			}
		case <-beat.C:
			_ = rc.SetWriteDeadline(time.Now().Add(p.cfg.WriteTimeout))
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
