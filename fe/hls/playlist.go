package hls

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
)

// mediaPlaylist renders a live media playlist of segs (consecutive, oldest
// first), whose URIs carry the session token.
func mediaPlaylist(segs []*segment, disc int64, target time.Duration, ext, token string) []byte {
	td := int64(math.Round(target.Seconds()))
	for _, s := range segs {
		td = max(td, int64(math.Round(s.dur.Seconds())))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n", td)
	if len(segs) > 0 {
		fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n", segs[0].seq)
	}
	fmt.Fprintf(&b, "#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", disc)
	q := "?" + url.Values{tokenParam: {token}}.Encode()
	for _, s := range segs {
		if s.disc {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%.3f,\n%d.%s%s\n",
			s.start.UTC().Format("2006-01-02T15:04:05.000Z"), s.dur.Seconds(), s.seq, ext, q)
	}
	return []byte(b.String())
}

// A Variant is one node's media playlist of a mount.
type Variant struct {
	URL       string
	Bandwidth int // bits per second
}

// Multivariant renders a multivariant playlist of variants, which play the
// same stream: a player uses the first, and the others, redundant, when it
// fails.
func Multivariant(variants []Variant) []byte {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n")
	for _, v := range variants {
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d\n%s\n", v.Bandwidth, v.URL)
	}
	return []byte(b.String())
}

// MediaPath returns the path of mount's media playlist under prefix, the
// path that the front-end routes to ServeMedia.
func MediaPath(prefix, mount string) string { return prefix + mount + "/" + playlistFile }

// MediaQuery returns the query of a media playlist URL of session token.
func MediaQuery(token string) string { return url.Values{tokenParam: {token}}.Encode() }

const (
	playlistFile = "index.m3u8"
	tokenParam   = "s"
)
