package httpfe

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"io"
	"net"
	"net/http"
	"net/url"
	"unicode/utf8"

	"autoradio"
)

// metadataPath is where source clients update a mount's title, as they
// do on Icecast: GET /admin/metadata?mount=/m&mode=updinfo&song=...
const metadataPath = "/admin/metadata"

// metadataParams are the parameters of Icecast 2.4's /admin/metadata
// that the front-end passes on; any other is dropped.
var metadataParams = []string{"mount", "mode", "song", "title", "artist", "charset"}

// icecastRealm is the WWW-Authenticate challenge of Icecast 2.4, which
// source clients expect (libshout asks without credentials first, and
// sends them after a 401).
const icecastRealm = `Basic realm="Icecast2 Server"`

// maxMetadataAnswer bounds the master's answer passed back to the client.
const maxMetadataAnswer = 16 << 10

// serveMetadata updates a mount's title on the master's Icecast, for a
// client holding the mount's source credentials: 404 for an unknown
// mount, 401 without the right credentials, 429 when updates come too
// fast, 503 without a master (or one that does not know the mount yet)
// and 502 when it cannot be reached; otherwise the master's answer.
func (h *Handler) serveMetadata(w *recorder, r *http.Request) {
	q := r.URL.Query()
	mount := q.Get("mount")
	m := h.knownMount(w, r, mount)
	if m == nil {
		return
	}
	// Wrong credentials count against the address as for sources: this
	// is no way around the guessing limit. Asking without any, as
	// libshout does first, does not.
	key, ok := h.allowCredentials(w, r)
	if !ok {
		return
	}
	if !sourceAuthorized(r, m) {
		if _, _, sent := r.BasicAuth(); sent {
			h.badCredentials(h.log.With("mount", mount, "remote", r.RemoteAddr), key)
		} else {
			h.guard.Inconclusive(key)
		}
		w.Header().Set("WWW-Authenticate", icecastRealm)
		http.Error(w, "You need to authenticate", http.StatusUnauthorized)
		return
	}
	h.guard.Succeeded(key)
	if !h.titles.allow(mount) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many metadata updates for this mount", http.StatusTooManyRequests)
		return
	}
	master, ok := h.cluster.Master()
	if !ok || len(master.IPs) == 0 {
		h.unavailable(w, "no Icecast master is elected")
		return
	}
	h.updateMetadata(w, r, m, master, q)
}

// updateMetadata sends the update to the master's Icecast, authenticated
// with the mount's source credentials, and passes its answer back.
func (h *Handler) updateMetadata(w http.ResponseWriter, r *http.Request, m *autoradio.Mount, master *autoradio.MasterInfo, q url.Values) {
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.DialTimeout+h.cfg.ResponseTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+master.IcecastAddr()+metadataPath+"?"+forwardedMetadata(q).Encode(), nil)
	if err != nil {
		http.Error(w, "bad metadata request", http.StatusBadRequest)
		return
	}
	req.SetBasicAuth(m.Username, m.Password)
	req.Header.Set("User-Agent", "autoradio-redirectord")
	resp, err := h.admin.Do(req)
	if err != nil {
		// The error names the URL, which holds no credential.
		h.log.Warn("metadata: updating the title on the master's Icecast", "mount", m.Name, "master", master.Name, "err", err)
		http.Error(w, "cannot reach the master's Icecast", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	h.log.Debug("metadata: the master's Icecast answered", "mount", m.Name, "code", resp.StatusCode)
	if resp.StatusCode == http.StatusUnauthorized {
		// The client's credentials were right: the master has not
		// applied the mount's configuration yet.
		h.log.Warn("metadata: the master's Icecast refused the mount's credentials", "mount", m.Name, "master", master.Name)
		h.unavailable(w, "the master's Icecast does not know this mount yet")
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, io.LimitReader(resp.Body, maxMetadataAnswer))
}

// forwardedMetadata returns the parameters of an update that the
// master's Icecast is sent: those of metadataParams, and a charset when
// the client named none (see textCharset).
//
// Values go as the client sent them, control characters included: the
// status parser blanks those. A NUL (%00) ends the value there, as
// Icecast decodes it into a C string: "A%00B" sets the title "A".
func forwardedMetadata(q url.Values) url.Values {
	fwd := url.Values{}
	for _, k := range metadataParams {
		if v, ok := q[k]; ok {
			fwd[k] = v
		}
	}
	if fwd.Get("charset") == "" {
		if cs := textCharset(fwd); cs != "" {
			fwd.Set("charset", cs)
		}
	}
	return fwd
}

// metadataText are the parameters of an update that hold text.
var metadataText = []string{"song", "title", "artist"}

// textCharset names the charset of the text of an update that names
// none. Without one, Icecast 2.4 takes the bytes as they are, in the
// mount's charset (UTF-8, as radiod configures every mount), so that a
// title in another charset would go into the stream as invalid UTF-8 and
// be kept out of the statistics. Text that is valid UTF-8 is UTF-8;
// anything else is taken for ISO-8859-1, what Icecast assumes of MP3
// titles by default and what older clients send, in which every byte is
// a character. ASCII, the same in both, needs no name: "".
func textCharset(q url.Values) string {
	ascii := true
	for _, k := range metadataText {
		for _, v := range q[k] {
			if !utf8.ValidString(v) {
				return "ISO-8859-1"
			}
			ascii = ascii && isASCII(v)
		}
	}
	if ascii {
		return ""
	}
	return "UTF-8"
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// sourceAuthorized reports whether r carries m's source credentials. A
// mount without a password (a relay) has none to match. Hashing first
// makes the comparison take the same time whatever the lengths.
func sourceAuthorized(r *http.Request, m *autoradio.Mount) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || m.Password == "" {
		return false
	}
	u1, u2 := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(m.Username))
	p1, p2 := sha256.Sum256([]byte(pass)), sha256.Sum256([]byte(m.Password))
	return subtle.ConstantTimeCompare(u1[:], u2[:])&subtle.ConstantTimeCompare(p1[:], p2[:]) == 1
}

// newAdminClient returns the client of requests to the master's admin
// interface: no proxy, no kept connections, bounded waits.
func newAdminClient(cfg Config) *http.Client {
	d := &net.Dialer{Timeout: cfg.DialTimeout}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            d.DialContext,
			DisableKeepAlives:      true,
			ResponseHeaderTimeout:  cfg.ResponseTimeout,
			MaxResponseHeaderBytes: 16 << 10,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
