package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

// TestHLS plays the HLS of an MP3 and an AAC mount with real players,
// through the front-end of the node that is not the master: the
// multivariant playlist names both nodes, with the same bandwidth and
// session; ffmpeg decodes 30 s of it without an error; mpv and GStreamer
// play it; the sessions count as the mount's listeners.
func TestHLS(t *testing.T) {
	testenv.RequireBinaries(t, "ffmpeg", "mpv", "gst-launch-1.0")
	p := startPair(t, []string{"127.0.0.111", "127.0.0.112"})
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Bound(3*time.Minute))
	defer cancel()
	p.liveMount(ctx, t, "/hls.mp3", p.f1)
	p.liveMount(ctx, t, "/hls.aac", p.f1)

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
