package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"autoradio"
	"autoradio/fe/hls"
	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// variants returns the media playlist URLs and the bandwidths of a
// multivariant playlist.
func variants(t *testing.T, playlist string) (urls []*url.URL, bandwidths []string) {
	t.Helper()
	for line := range strings.Lines(playlist) {
		line = strings.TrimSpace(line)
		if bw, ok := strings.CutPrefix(line, "#EXT-X-STREAM-INF:BANDWIDTH="); ok {
			bandwidths = append(bandwidths, bw)
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, err := url.Parse(line)
		if err != nil {
			t.Fatalf("variant %q: %v", line, err)
		}
		urls = append(urls, u)
	}
	return urls, bandwidths
}

// TestHLS plays the HLS of an MP3 mount and of an AAC mount (transcoded
// from an Ogg one) with real players, through the front-end of the node
// that is not the master: the multivariant playlist names both nodes, with
// the same bandwidth and session; ffmpeg decodes 30 s of it without an
// error; mpv and GStreamer play it; the sessions count as the mount's
// listeners; both nodes cut the same audio into the same segment.
func TestHLS(t *testing.T) {
	testenv.RequireBinaries(t, "ffmpeg", "mpv", "gst-launch-1.0")
	requireTranscoding(t)
	p := startPair(t, []string{"127.0.0.111", "127.0.0.112"})
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Bound(3*time.Minute))
	defer cancel()
	p.liveMount(ctx, t, "/hls.mp3", p.f1)
	p.liveMount(ctx, t, "/hls.ogg", p.f1)
	aac := newTranscodingMount(t, "/hls.aac", "/hls.ogg", autoradio.Transcoding{Codec: autoradio.CodecAAC})
	if err := p.c.CreateMount(ctx, aac); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error { return mountLiveOn(p.c, aac.Name, 2) })
	if code := status(t, p.f2.URL("/_hls/hls.ogg/index.m3u8?"+hls.MediaQuery(hls.NewToken()))); code != http.StatusNotFound {
		t.Errorf("HLS of an Ogg mount: %d, want 404", code)
	}

	master := p.f2.URL("/hls.mp3.m3u8")
	urls, bws := variants(t, get(t, master))
	if len(urls) != 2 || urls[0].Host == urls[1].Host || len(bws) != 2 || bws[0] != bws[1] ||
		urls[0].Query().Get("s") == "" || urls[0].RawQuery != urls[1].RawQuery {
		t.Fatalf("multivariant playlist: %v, bandwidths %v: want both nodes, one session, one bandwidth", urls, bws)
	}
	if code := status(t, p.f2.URL("/_hls/hls.mp3/index.m3u8?s=nottoken")); code != http.StatusFound {
		t.Errorf("media playlist without a session: %d, want 302 to one", code)
	}

	var wg sync.WaitGroup
	play := func(name string, f func() error) {
		wg.Go(func() {
			if err := f(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}
	// ffmpeg opens every variant of a multivariant playlist, and its HTTP
	// client logs an error, harmless, each time it cannot reuse a
	// connection for a variant on another host: it is asked not to keep
	// connections.
	noKeep := []string{"-http_persistent", "0"}
	play("ffmpeg on MP3", func() error { return audiotest.PlayURL(ctx, t.TempDir(), master, 30*time.Second, noKeep...) })
	play("ffmpeg on AAC", func() error {
		return audiotest.PlayURL(ctx, t.TempDir(), p.f2.URL("/hls.aac.m3u8"), 10*time.Second, noKeep...)
	})
	for _, pl := range hlsPlayers {
		play(pl.name, func() error {
			out := filepath.Join(t.TempDir(), "out")
			proc := testenv.StartCmd(t, pl.command(t, t.TempDir(), master, out, false))
			r := played(ctx, proc, out, pl.pcm)
			if r.err != nil {
				return fmt.Errorf("%w\n%s", r.err, r.output)
			}
			return nil
		})
	}
	skew := segmentSkew(ctx, t, urls)
	t.Logf("the same segment starts %v later on %s than on %s", skew, urls[1].Host, urls[0].Host)
	// The nodes time the audio by when it reaches them: a relay's Icecast
	// may pass it on later than the master's, by up to seconds while it
	// catches up after it started.
	if skew <= -hls.DefaultTarget || skew >= hls.DefaultTarget {
		t.Errorf("a player moving between the nodes would skip or replay %v: more than a segment", skew)
	}
	testenv.Eventually(t, 20*time.Second, func() error {
		if n := publishedListeners(ctx, p.c, "/hls.mp3"); n < 3 {
			return fmt.Errorf("%d listeners of /hls.mp3 published, want the 3 players' sessions", n)
		}
		return nil
	})
	wg.Wait()
}

// hlsPlayers are the players of the compatibility suite that play HLS:
// mpv as there; GStreamer's playbin also, but stopped without -e, as its
// HLS source does not end on an end-of-stream event (and killed if it
// still hangs).
var hlsPlayers = []player{players[0], {
	name: "GStreamer playbin",
	pcm:  players[3].pcm,
	command: func(_ *testing.T, _, url, out string, _ bool) *exec.Cmd {
		script := `timeout --foreground -s INT -k 5 "$1" gst-launch-1.0 "${@:2}"; rc=$?; [ $rc = 124 ] || exit $rc`
		return exec.Command("bash", "-c", script, "playbin", strconv.Itoa(playSeconds+5),
			"playbin", "uri="+url, "video-sink=fakesink",
			"audio-sink=audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=44100,channels=2 ! filesink location="+out)
	},
}}

// segmentSkew measures what a player moving from the first to the second
// media playlist of a 128 kbit/s MP3 mount hears: how much later the
// second node's segment starts in the stream than the first node's
// segment of the same number (negative: earlier, the player would hear it
// again).
func segmentSkew(ctx context.Context, t *testing.T, media []*url.URL) time.Duration {
	t.Helper()
	// n-1, n and n+1 on the first node, n on the second.
	var n int64
	testenv.Eventually(t, 30*time.Second, func() error {
		var first, last [2]int64
		for i, u := range media {
			body, err := fetchBody(ctx, http.DefaultClient, u.String())
			if err != nil {
				return err
			}
			m := regexp.MustCompile(`(?m)^#EXT-X-MEDIA-SEQUENCE:(\d+)$`).FindStringSubmatch(body)
			if m == nil {
				return fmt.Errorf("%s: no media sequence in\n%s", u, body)
			}
			first[i], _ = strconv.ParseInt(m[1], 10, 64)
			last[i] = first[i] + int64(strings.Count(body, "#EXTINF")) - 1
		}
		n = max(first[0]+1, first[1])
		if n+1 > last[0] || n > last[1] {
			return fmt.Errorf("no segment in common yet: %d-%d and %d-%d", first[0], last[0], first[1], last[1])
		}
		return nil
	})
	segment := func(u *url.URL, n int64) []byte {
		ref, _ := url.Parse(fmt.Sprintf("%d.mp3?%s", n, u.RawQuery))
		body, err := fetchBody(ctx, http.DefaultClient, u.ResolveReference(ref).String())
		if err != nil {
			playlist, _ := fetchBody(ctx, http.DefaultClient, u.String())
			t.Fatalf("%v; the playlist now:\n%s", err, playlist)
		}
		b := []byte(body)
		if len(b) < 10 || string(b[:3]) != "ID3" {
			t.Fatalf("segment %d of %s does not start with an ID3 tag", n, u)
		}
		return b[10+(int(b[6])<<21|int(b[7])<<14|int(b[8])<<7|int(b[9])):]
	}
	var first []byte
	for _, k := range []int64{n - 1, n, n + 1} {
		first = append(first, segment(media[0], k)...)
	}
	second := segment(media[1], n)
	i := bytes.Index(first, second[:256])
	if i < 0 {
		t.Fatalf("segment %d of %s is nowhere near %s's", n, media[1].Host, media[0].Host)
	}
	before := len(segment(media[0], n-1))
	return time.Duration(i-before) * 8 * time.Second / 128_000
}

// status returns the status code of a GET of url, without following a
// redirect.
func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := noRedirect.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
