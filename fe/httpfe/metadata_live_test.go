package httpfe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// TestLiveMetadata updates titles through the front-end as source clients
// do, against a real Icecast master, and follows them to its status and to
// Icy listeners through the front-end: curl-style requests first, then
// real source clients on their own: ezstream (libshout) and liquidsoap.
func TestLiveMetadata(t *testing.T) {
	// A bucket that does not refill within the test: the fourth update
	// of a mount is refused.
	cfg := Config{MetadataRate: 0.001, MetadataBurst: 3, StreamGrace: time.Second, StreamBurstSize: 24 << 10}
	env := startLive(t, cfg, "/title.mp3", "/ezstream.mp3", "/liquidsoap.mp3")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	startFFmpeg(t, nil, append(audiotest.EncodeArgs("/title.mp3"), "-t", "600",
		fmt.Sprintf("icecast://%s:%s@%s/title.mp3", srcUser, srcPass, env.fe))...)
	env.ic.waitSource(ctx, t, "/title.mp3")
	updinfo := func(mount, song string) string {
		return url.Values{"mount": {mount}, "mode": {"updinfo"}, "song": {song}, "charset": {"UTF-8"}}.Encode()
	}

	t.Run("refused as Icecast refuses", func(t *testing.T) {
		// libshout asks without credentials first, and sends them on a 401.
		code, hdr, _ := env.metadata(ctx, t, updinfo("/title.mp3", "x"), "")
		if code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") != icecastRealm {
			t.Errorf("no credentials: %d, WWW-Authenticate %q; want 401 and %q", code, hdr.Get("WWW-Authenticate"), icecastRealm)
		}
		if code, _, _ := env.metadata(ctx, t, updinfo("/title.mp3", "x"), basicAuth(srcUser, "wrong")); code != http.StatusUnauthorized {
			t.Errorf("wrong password: %d, want 401", code)
		}
		if code, _, _ := env.metadata(ctx, t, updinfo("/none.mp3", "x"), basicAuth(srcUser, srcPass)); code != http.StatusNotFound {
			t.Errorf("unknown mount: %d, want 404", code)
		}
		// A mount whose configuration the master has not applied yet:
		// Icecast refuses its credentials.
		env.cluster.addMount(&autoradio.Mount{Name: "/unapplied.mp3", Username: "new", Password: "newpass"})
		code, hdr, _ = env.metadata(ctx, t, updinfo("/unapplied.mp3", "x"), basicAuth("new", "newpass"))
		if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			t.Errorf("mount unknown to the master: %d, Retry-After %q; want 503 with one", code, hdr.Get("Retry-After"))
		}
		if st, _ := env.ic.stats(); st["/title.mp3"].Title != "" {
			t.Errorf("title %q set by a refused request", st["/title.mp3"].Title)
		}
	})

	t.Run("title reaches the master, listeners and late listeners", func(t *testing.T) {
		first := env.icyOpen(ctx, t, "/title.mp3")
		// ASCII: this Icecast keeps its default charset, ISO8859-1,
		// in which other characters become entities (radiod's mounts
		// are UTF-8; test/e2e/titles_test.go has those).
		const title = "Front-end Title (live) & more"
		code, _, body := env.metadata(ctx, t, updinfo("/title.mp3", title), basicAuth(srcUser, srcPass))
		if code != http.StatusOK || !strings.Contains(body, "Metadata update successful") {
			t.Fatalf("update: %d %q", code, body)
		}
		wctx, stop := context.WithTimeout(ctx, 30*time.Second)
		defer stop()
		waitFor(wctx, t, "the title in the master's status", func() bool {
			st, err := env.ic.stats()
			return err == nil && st["/title.mp3"].Title == title
		})
		want := "StreamTitle='" + title + "';"
		if err := first.WaitMeta(want); err != nil {
			t.Fatalf("first listener: %v", err)
		}
		// The title change must be older than the burst that a new
		// listener gets, or the late listener would get it as it is.
		for range (cfg.StreamBurstSize+first.Metaint-1)/first.Metaint + 1 {
			if _, err := first.NextMeta(); err != nil {
				t.Fatalf("first listener: %v", err)
			}
		}
		late := env.icyOpen(ctx, t, "/title.mp3")
		if m, err := late.NextMeta(); err != nil || m != want {
			t.Errorf("late listener's first metadata block: %q, %v; want %q", m, err, want)
		}
	})

	t.Run("updates beyond the rate limit get 429", func(t *testing.T) {
		// One update was made above; the bucket holds three.
		var codes []int
		for i := range 3 {
			code, hdr, _ := env.metadata(ctx, t, updinfo("/title.mp3", fmt.Sprint("Song ", i)), basicAuth(srcUser, srcPass))
			codes = append(codes, code)
			if code == http.StatusTooManyRequests && hdr.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		}
		if fmt.Sprint(codes) != "[200 200 429]" {
			t.Errorf("codes %v, want [200 200 429]", codes)
		}
		if code, _, _ := env.metadata(ctx, t, updinfo("/title.mp3", "x"), ""); code != http.StatusUnauthorized {
			t.Errorf("unauthenticated while limited: %d, want 401 (only updates count)", code)
		}
	})

	for _, sc := range sourceClients {
		t.Run(sc.name+" updates the title its own way", func(t *testing.T) {
			env.clientSetsTitle(ctx, t, sc, "/"+sc.name+".mp3")
		})
	}
}

// metadata sends GET /admin/metadata?query to the front-end with the
// Authorization header auth (none when empty).
func (env *liveEnv) metadata(ctx context.Context, t *testing.T, query, auth string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+env.fe+metadataPath+"?"+query, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := testClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// icyOpen starts a listener of mount through the front-end with Icy
// metadata.
func (env *liveEnv) icyOpen(ctx context.Context, t *testing.T, mount string) *audiotest.IcyStream {
	t.Helper()
	s, err := audiotest.ListenIcy(ctx, "http://"+env.fe+"/_stream"+mount)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A sourceClient is a real source client that streams a tagged MP3 file
// and sets the title from its tags its own way.
type sourceClient struct {
	name string
	// start runs the client, streaming song to mount on the front-end at
	// port, in dir.
	start func(t *testing.T, dir, song, port, mount string) *testenv.Proc
	// libshout asks without credentials first, and sends them on the 401.
	asksFirst bool
}

var sourceClients = []sourceClient{
	{name: "ezstream", start: startEzstream, asksFirst: true},
	{name: "liquidsoap", start: startLiquidsoap},
}

// clientSetsTitle streams a tagged MP3 file to mount through the
// front-end with a real source client; the title it sets must reach the
// master and an Icy listener.
func (env *liveEnv) clientSetsTitle(ctx context.Context, t *testing.T, sc sourceClient, mount string) {
	testenv.RequireBinaries(t, sc.name, "ffmpeg")
	dir := t.TempDir()
	song := filepath.Join(dir, "song.mp3")
	out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=550:duration=20",
		"-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "3",
		"-metadata", "artist="+sc.name+" Artist", "-metadata", "title=Tagged Song", song).CombinedOutput()
	if err != nil {
		t.Fatalf("making %s: %v\n%s", song, err, out)
	}
	_, port, _ := strings.Cut(env.fe, ":")
	unauthorized := metricValue(t, env.reg, "autoradio_http_requests_total", "kind", "metadata", "code", "401")
	proc := sc.start(t, dir, song, port, mount)
	want := sc.name + " Artist - Tagged Song"
	wctx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	waitFor(wctx, t, sc.name+"'s title in the master's status", func() bool {
		select {
		case <-proc.Done():
			t.Fatalf("%s exited:\n%s", sc.name, proc.Output())
		default:
		}
		st, err := env.ic.stats()
		return err == nil && st[mount].Title == want
	})
	if v := metricValue(t, env.reg, "autoradio_http_requests_total", "kind", "metadata", "code", "401"); sc.asksFirst && v <= unauthorized {
		t.Errorf("%s's update came with credentials at once: no 401 counted", sc.name)
	}
	if m, err := env.icyOpen(ctx, t, mount).NextMeta(); err != nil || m != "StreamTitle='"+want+"';" {
		t.Errorf("listener's first metadata block: %q, %v; want the title %q", m, err, want)
	}
}

func startEzstream(t *testing.T, dir, song, port, mount string) *testenv.Proc {
	playlist := filepath.Join(dir, "playlist.m3u")
	if err := os.WriteFile(playlist, []byte(song+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "ezstream.xml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(ezstreamConfig, port, srcUser, srcPass, mount, playlist)), 0o600); err != nil {
		t.Fatal(err)
	}
	return testenv.Start(t, "ezstream", "-c", conf)
}

func startLiquidsoap(t *testing.T, dir, song, port, mount string) *testenv.Proc {
	script := filepath.Join(dir, "source.liq")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(liquidsoapScript, port, srcUser, srcPass, mount, song)), 0o600); err != nil {
		t.Fatal(err)
	}
	return testenv.Start(t, "liquidsoap", script)
}

// liquidsoapScript streams a file to the front-end on 127.0.0.1; its
// arguments are the port, user, password, mount and file.
const liquidsoapScript = `settings.init.allow_root.set(true)
settings.log.stdout.set(true)
settings.log.file.set(false)
output.icecast(%%mp3(bitrate=128), host="127.0.0.1", port=%s, user=%q, password=%q, mount=%q,
  mksafe(single(%q)))
`

// ezstreamConfig streams a playlist to the front-end on 127.0.0.1; its
// arguments are the port, user, password, mount and playlist file.
const ezstreamConfig = `<?xml version="1.0" encoding="UTF-8"?>
<ezstream>
  <servers><server>
    <protocol>HTTP</protocol><hostname>127.0.0.1</hostname><port>%s</port>
    <user>%s</user><password>%s</password>
  </server></servers>
  <streams><stream>
    <mountpoint>%s</mountpoint><format>MP3</format>
  </stream></streams>
  <intakes><intake>
    <type>playlist</type><filename>%s</filename>
  </intake></intakes>
  <metadata><format_str>@a@ - @t@</format_str></metadata>
</ezstream>
`
