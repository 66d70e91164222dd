package httpfe

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"strings"
)

// Request headers passed to the local Icecast; everything else (cookies,
// credentials, forwarding headers) stays here.
var streamRequestHeaders = []string{"User-Agent", "Accept", "Icy-Metadata", "Range"}

// serveStream streams a known mount from the local Icecast.
func (h *Handler) serveStream(w *recorder, r *http.Request, mount string) {
	if h.knownMount(w, r, mount) == nil {
		return
	}
	h.metrics.streams.Inc()
	defer h.metrics.streams.Dec()
	r.URL.Path, r.URL.RawPath = mount, ""
	h.stream.ServeHTTP(&countingWriter{recorder: w, m: h.metrics}, r)
}

// newStreamProxy builds the reverse proxy to the local Icecast. It flushes
// every write (a stream has no length) and keeps its memory small: a
// pooled copy buffer, and a goroutine-free transport with one small buffer.
func (h *Handler) newStreamProxy() http.Handler {
	upstream := h.cfg.LocalIcecast
	transport := &upstreamTransport{
		addr:           upstream,
		dialTimeout:    h.cfg.DialTimeout,
		headerTimeout:  h.cfg.ResponseTimeout,
		readBufferSize: 1 << 10, // Icecast's headers are short; the body bypasses it
	}
	return &httputil.ReverseProxy{
		Rewrite:        func(pr *httputil.ProxyRequest) { rewriteStream(pr, upstream) },
		Transport:      transport,
		FlushInterval:  -1,
		BufferPool:     h.bufs,
		ModifyResponse: func(resp *http.Response) error { setCORS(resp.Header); return nil },
		ErrorHandler:   h.streamError,
		// Mostly listeners that went away mid-stream: routine.
		ErrorLog: slog.NewLogLogger(h.log.Handler(), slog.LevelDebug),
	}
}

// rewriteStream aims the outgoing request at the local Icecast, with only
// the headers Icecast needs.
func rewriteStream(pr *httputil.ProxyRequest, upstream string) {
	out := pr.Out
	out.URL.Scheme, out.URL.Host, out.Host = "http", upstream, upstream
	hdr := make(http.Header, len(streamRequestHeaders))
	for _, k := range streamRequestHeaders {
		if v := pr.In.Header.Values(k); len(v) > 0 {
			hdr[k] = v
		}
	}
	out.Header = hdr
}

func (h *Handler) streamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		return // the listener went away
	}
	h.log.Warn("streaming from the local Icecast", "mount", r.URL.Path, "err", err)
	setCORS(w.Header())
	http.Error(w, "stream unavailable", http.StatusBadGateway)
}

// servePreflight answers a CORS preflight for a known mount.
func (h *Handler) servePreflight(w http.ResponseWriter, r *http.Request, p string) string {
	kind := kindRedirect
	if m, ok := strings.CutPrefix(p, streamPrefix+"/"); ok {
		kind, p = kindStream, "/"+m
	}
	if h.knownMount(w, r, p) == nil {
		return kind
	}
	hdr := w.Header()
	setCORS(hdr)
	hdr.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	hdr.Set("Access-Control-Allow-Headers", "Icy-MetaData, Range")
	hdr.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
	return kind
}

// setCORS lets web players on any site read streams and their Icy headers.
// It replaces whatever Icecast sent, so that each header appears once.
func setCORS(hdr http.Header) {
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("Access-Control-Expose-Headers",
		"Icy-MetaInt, Icy-Br, Icy-Name, Icy-Genre, Icy-Url, Icy-Description, Icy-Pub, Icy-Sr, Ice-Audio-Info, Content-Type")
	hdr.Del("Access-Control-Allow-Credentials")
}

// countingWriter counts the bytes sent to a listener.
type countingWriter struct {
	*recorder
	m *metrics
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.recorder.Write(b)
	c.m.streamBytes.Add(float64(n))
	return n, err
}

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.recorder }
