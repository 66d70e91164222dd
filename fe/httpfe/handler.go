package httpfe

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"autoradio"
	"autoradio/fe/authguard"
	"autoradio/fe/fanout"
	"autoradio/fe/hls"
	"autoradio/fe/statuspage"
	"autoradio/fe/tap"
	"autoradio/internal/splice"
)

// streamPrefix is the path prefix of proxied streams.
const streamPrefix = "/_stream"

// Handler is the front-end's http.Handler. Close it to end the sources it
// forwards, whose connections it has hijacked: http.Server.Shutdown does
// not know about them.
type Handler struct {
	cfg     Config
	cluster Cluster
	page    *statuspage.Page // GET / and its feeds
	log     *slog.Logger
	metrics *metrics
	bufs    *bufferPool
	fanout  *fanout.Fanout
	taps    *tap.Set // the sources forwarded here, for the fan-outs
	hls     *hls.HLS
	sources splice.Registry[*forward] // sources being forwarded
	guard   *authguard.Guard          // source password guessing
	titles  *rateLimiter              // title updates, by mount
	admin   *http.Client              // to the master's /admin/metadata
	closing chan struct{}             // closed by Close: ends held sources
	close1  sync.Once
	// nodes and portSuffix are the parts of redirect URLs formatted once.
	nodes         nodeCache
	portSuffix    string
	tlsPortSuffix string // HTTPS's
}

// NewHandler returns the front-end's handler. Its metrics are registered
// with reg; log may be nil (slog.Default()).
func NewHandler(cfg Config, cluster Cluster, reg prometheus.Registerer, log *slog.Logger) (*Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.HTTPPort == 0 {
		return nil, errors.New("httpfe: config: HTTPPort must be set when Addr's port is 0 (New sets it from the bound port)")
	}
	if cfg.HTTPSAddr != "" && cfg.HTTPSPort == 0 {
		return nil, errors.New("httpfe: config: HTTPSPort must be set when HTTPSAddr's port is 0 (New sets it from the bound port)")
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	guard, err := authguard.New(cfg.SourceGuard)
	if err != nil {
		return nil, fmt.Errorf("httpfe: config: SourceGuard: %w", err)
	}
	h := &Handler{
		cfg:     cfg,
		cluster: cluster,
		log:     log.With("component", "httpfe"),
		metrics: m,
		bufs:    newBufferPool(cfg.StreamBufferSize),
		guard:   guard,
		titles:  newRateLimiter(cfg.MetadataRate, cfg.MetadataBurst, time.Now),
		admin:   newAdminClient(cfg),
		closing: make(chan struct{}),
		taps:    &tap.Set{},
		// The scheme and port of redirects are chosen per request
		// (listenerURL); this is plain HTTP's.
		portSuffix:    portSuffix(cfg.HTTPPort),
		tlsPortSuffix: tlsPortSuffix(cfg.HTTPSPort),
	}
	h.nodes.make = h.newNodeAddrs
	fc := fanout.Config{
		Upstream:     h.icecastUpstream(cfg.LocalIcecast),
		WindowSize:   cfg.StreamQueueSize,
		Burst:        cfg.StreamBurstSize,
		ReadTimeout:  cfg.ResponseTimeout,
		ReadyTimeout: cfg.DialTimeout + cfg.ResponseTimeout,
		WriteTimeout: cfg.StreamWriteTimeout,
		HeadTimeout:  cfg.ResponseTimeout,
		Grace:        cfg.StreamGrace,
		Reconnect:    cfg.StreamReconnect,
	}
	if cfg.NodeName != "" {
		fc.Others, fc.LocalLive, fc.Leave = h.otherUpstreams, h.localLive, h.localAside
		fc.Taps, fc.Master, fc.Healthy = h.tapsOf, h.masterName, h.healthy
		fc.StallTimeout = cfg.StreamStallTimeout
	}
	h.fanout, err = fanout.New(fc, reg, h.log)
	if err != nil {
		return nil, err
	}
	h.hls, err = hls.New(cfg.HLS, fanoutSource{h.fanout}, reg, h.log)
	if err != nil {
		h.fanout.Close()
		return nil, err
	}
	h.page = h.newStatusPage()
	return h, nil
}

// Close closes every forwarded source connection and proxied stream, refuses
// new ones, and waits for their goroutines to end.
func (h *Handler) Close() {
	h.close1.Do(func() { close(h.closing) })
	h.sources.Close()
	h.hls.Close()
	h.fanout.Close()
}

// ServeHTTP routes a request and counts it by kind and status code.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	if r.ContentLength != 0 {
		h.boundBody(w)
		defer endBody(w)
	}
	kind := kindStatus // the status page sent to HTTPS
	if !h.serveHTTPS(rec, r) {
		kind = h.serve(rec, r)
	}
	h.metrics.requestsBy.inc(kind, rec.status())
}

// boundBody prepares a request that announces a body. Only forwarded
// sources read one, from a hijacked connection, with deadlines of their
// own. For every other answer net/http would read what remains of the
// body, to reuse the connection, with no deadline: before the response
// unless the connection closes after it, and after it in any case. A
// client that announces a body and never sends it would hold the
// connection for ever.
func (h *Handler) boundBody(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.cfg.ReadHeaderTimeout))
}

// endBody closes the connection of an answered request with a body at
// once, instead of reading the body first; it does nothing to a
// hijacked one.
func endBody(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

// serve answers r and returns its kind.
func (h *Handler) serve(w *recorder, r *http.Request) string {
	p := r.URL.Path
	if r.Method == "SOURCE" || r.Method == http.MethodPut {
		h.serveSource(w, r, strings.TrimPrefix(p, streamPrefix))
		return kindSource
	}
	if r.ContentLength != 0 {
		// Only sources send bodies; refusing others keeps every other
		// request cheap.
		http.Error(w, "request bodies are not accepted here", http.StatusRequestEntityTooLarge)
		return kindOther
	}
	if r.Method == http.MethodOptions {
		return h.servePreflight(w, r, p)
	}
	if p == autoradio.RelaysLostPath {
		h.serveRelaysLost(w, r)
		return kindOther
	}
	if mount, ok := strings.CutPrefix(p, streamPrefix+"/"); ok {
		h.serveStream(w, r, "/"+mount)
		return kindStream
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w)
		return kindOther
	}
	return h.serveGet(w, r, p)
}

// serveGet answers GET and HEAD requests outside /_stream/.
func (h *Handler) serveGet(w *recorder, r *http.Request, p string) string {
	switch {
	case statuspage.Owns(p):
		h.page.ServeHTTP(w, r)
		return kindStatus
	case p == autoradio.ProxiedStatusPath:
		h.serveProxiedJSON(w, r)
		return kindStatus
	case p == metadataPath:
		if r.Method != http.MethodGet {
			// An update is not safe to repeat as a HEAD.
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return kindOther
		}
		h.serveMetadata(w, r)
		return kindMetadata
	case strings.HasPrefix(p, hlsPrefix+"/"):
		h.serveHLS(w, r, p)
		return kindHLS
	case strings.HasPrefix(p, tapPrefix+"/"):
		mount, _ := tapMount(p)
		h.serveTap(w, r, mount)
		return kindStream
	case strings.HasPrefix(p, "/_"):
		http.NotFound(w, r)
		return kindOther
	case strings.HasSuffix(p, ".m3u8"):
		h.serveMultivariant(w, r, strings.TrimSuffix(p, ".m3u8"))
		return kindPlaylist
	case strings.HasSuffix(p, ".m3u") || strings.HasSuffix(p, ".pls"):
		h.servePlaylist(w, r, p)
		return kindPlaylist
	}
	h.serveRedirect(w, r, p)
	return kindRedirect
}

// knownMount returns the mount with path p when it is a configured mount;
// otherwise it answers 404 and returns nil. Mount records are validated
// when read from etcd (autoradio.DecodeMount), so a path the cluster knows
// is a valid one and needs no checking per request.
func (h *Handler) knownMount(w http.ResponseWriter, r *http.Request, p string) *autoradio.Mount {
	if m, ok := h.cluster.Mount(p); ok && m.Name == p {
		return m
	}
	http.Error(w, "no such mount", http.StatusNotFound)
	return nil
}

// unavailable answers 503 with a Retry-After.
func (h *Handler) unavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(h.cfg.RetryAfter.Seconds())))
	w.Header().Set("Cache-Control", "no-cache")
	http.Error(w, msg, http.StatusServiceUnavailable)
}

func methodNotAllowed(w http.ResponseWriter) {
	w.Header().Set("Allow", "GET, HEAD, OPTIONS, PUT, SOURCE")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// recorder remembers the status code of a response. Unwrap lets
// http.ResponseController reach the Flusher and Hijacker underneath.
type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 && code >= 200 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// setStatus records the status of a response written on a hijacked
// connection.
func (r *recorder) setStatus(code int) { r.code = code }

func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// bufferPool lends fixed-size copy buffers to streams and sources, and
// implements httputil.BufferPool.
type bufferPool struct {
	size int
	pool sync.Pool
}

func newBufferPool(size int) *bufferPool {
	p := &bufferPool{size: size}
	p.pool.New = func() any { b := make([]byte, size); return &b }
	return p
}

// Get returns a buffer; give it back with Put.
func (p *bufferPool) Get() []byte { return *p.pool.Get().(*[]byte) }

// Put returns a buffer obtained from Get.
func (p *bufferPool) Put(b []byte) {
	if cap(b) == p.size {
		b = b[:p.size]
		p.pool.Put(&b)
	}
}
