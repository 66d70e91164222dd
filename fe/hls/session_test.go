package hls

import (
	"strings"
	"testing"
	"time"

	"autoradio"
)

// TestSessions counts sessions by mount, refuses new ones when full or at
// the bound, and expires those not seen since the cutoff.
func TestSessions(t *testing.T) {
	var s sessions
	now := time.Unix(1000, 0)
	a, b := NewToken(), NewToken()
	if !validToken(a) || validToken(a[1:]) || validToken(strings.Repeat("z", len(a))) {
		t.Fatal("validToken")
	}
	for _, tc := range []struct {
		mount, token string
		full         bool
		ok           bool
	}{
		{"/a.mp3", a, false, true},
		{"/a.mp3", b, false, true},
		{"/a.mp3", a, true, true}, // a known session goes on when full
		{"/b.mp3", a, true, false},
		{"/b.mp3", a, false, false}, // at the bound of 2
	} {
		ok := s.allowed(tc.mount, tc.token, tc.full, 2)
		if ok != tc.ok {
			t.Errorf("allowed(%s, %s, full %v) = %v", tc.mount, tc.token, tc.full, ok)
		}
		if ok {
			s.touch(tc.mount, tc.token, now)
		}
	}
	s.touch("/a.mp3", a, now.Add(5*time.Second))
	if c := s.counts(); c["/a.mp3"] != 2 || len(c) != 1 || s.total() != 2 {
		t.Errorf("counts %v", c)
	}
	s.expire(now.Add(time.Second))
	if c := s.counts(); c["/a.mp3"] != 1 || s.total() != 1 {
		t.Errorf("after expiry: %v", c)
	}
}

// TestMediaPlaylist renders a playlist with a discontinuity.
func TestMediaPlaylist(t *testing.T) {
	start := time.Date(2026, 11, 30, 1, 2, 4, 0, time.UTC)
	segs := []*segment{
		{seq: 7, start: start, dur: 4010 * time.Millisecond},
		{seq: 8, start: start.Add(4010 * time.Millisecond), dur: 3990 * time.Millisecond, disc: true},
	}
	got := string(mediaPlaylist(segs, 2, 4*time.Second, "aac", "tok"))
	want := `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-DISCONTINUITY-SEQUENCE:2
#EXT-X-PROGRAM-DATE-TIME:2026-11-30T01:02:04.000Z
#EXTINF:4.010,
7.aac?s=tok
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2026-11-30T01:02:08.010Z
#EXTINF:3.990,
8.aac?s=tok
`
	if got != want {
		t.Errorf("playlist:\n%s\nwant:\n%s", got, want)
	}
}

func TestServes(t *testing.T) {
	for _, tc := range []struct {
		m    autoradio.Mount
		want bool
	}{
		{autoradio.Mount{Name: "/live.mp3"}, true},
		{autoradio.Mount{Name: "/live.AAC"}, true},
		{autoradio.Mount{Name: "/live.ogg"}, false},
		{autoradio.Mount{Name: "/live.opus"}, false},
		{autoradio.Mount{Name: "/live"}, false},
		{autoradio.Mount{Name: "/low.ogg", Transcoding: &autoradio.Transcoding{Codec: "aac"}}, true},
		{autoradio.Mount{Name: "/low.mp3", Transcoding: &autoradio.Transcoding{Codec: "vorbis"}}, false},
	} {
		if got := Serves(&tc.m); got != tc.want {
			t.Errorf("Serves(%s, transcoding %v) = %v, want %v", tc.m.Name, tc.m.Transcoding, got, tc.want)
		}
	}
}
