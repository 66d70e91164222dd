package fanout

import (
	"net/http"
	"slices"
	"strings"
)

// Response headers passed from upstream to listeners (lower case), besides
// the Icy-* and Ice-* headers.
var streamResponseHeaders = []string{"content-type", "cache-control", "expires", "pragma"}

// responseHead is the head of listeners' responses: HTTP/1.0 like
// Icecast's own, the headers players use, CORS, and no keep-alive.
func responseHead(h http.Header) []byte {
	out := http.Header{}
	for k, v := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "icy-") || strings.HasPrefix(lk, "ice-") || slices.Contains(streamResponseHeaders, lk) {
			out[k] = v
		}
	}
	SetCORS(out)
	out.Set("Connection", "close")
	var b strings.Builder
	b.WriteString("HTTP/1.0 200 OK\r\n")
	out.Write(&b)
	b.WriteString("\r\n")
	return []byte(b.String())
}

// SetCORS lets web players on any site read streams and their Icy headers.
// It replaces whatever upstream sent, so that each header appears once.
func SetCORS(hdr http.Header) {
	hdr["Access-Control-Allow-Origin"] = corsOrigin
	hdr["Access-Control-Expose-Headers"] = corsExpose
	delete(hdr, "Access-Control-Allow-Credentials")
}

// The CORS header values, shared by every response: header values are
// replaced, never changed in place, and these have no room to append to.
var (
	corsOrigin = []string{"*"}[:1:1]
	corsExpose = []string{"Icy-MetaInt, Icy-Br, Icy-Name, Icy-Genre, Icy-Url, Icy-Description, Icy-Pub, Icy-Sr, Ice-Audio-Info, Content-Type"}[:1:1]
)
