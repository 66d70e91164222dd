package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// titleCluster is a pair on 127.0.0.31 and 127.0.0.32 and a live MP3
// mount whose source pushes to n2's front-end.
type titleCluster struct {
	*pair
	m *autoradio.Mount
}

func startTitleCluster(t *testing.T, ctx context.Context, mount string) *titleCluster {
	t.Helper()
	tc := &titleCluster{pair: startPair(t, []string{"127.0.0.31", "127.0.0.32"})}
	tc.m, _ = tc.liveMount(ctx, t, mount, tc.f2)
	return tc
}

// setTitle updates the mount's title through n2's front-end, the node
// that is not master, as a source client does, with params (mode and
// mount added).
func (tc *titleCluster) setTitle(t *testing.T, params url.Values) {
	t.Helper()
	params.Set("mount", tc.m.Name)
	params.Set("mode", "updinfo")
	if code, _ := metadataGet(t, tc.f2.URL("/admin/metadata?"+params.Encode()), tc.m.Username, tc.m.Password); code != http.StatusOK {
		t.Fatalf("title update %s: %d, want 200", params.Encode(), code)
	}
}

// icyTitle waits for a listener of the relay node's front-end to get
// the title want in the stream, byte for byte.
func (tc *titleCluster) icyTitle(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := audiotest.ListenIcy(ctx, tc.f2.URL("/_stream"+tc.m.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WaitMeta("StreamTitle='" + want + "';"); err != nil {
		t.Errorf("relay node's listener: %v", err)
	}
}

// publishedTitles waits until both nodes publish a working Icecast, a
// live source and the title want for mount.
func (tc *titleCluster) publishedTitles(t *testing.T, mount, want string) {
	t.Helper()
	testenv.Eventually(t, 15*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		nodes, err := tc.c.ListNodes(ctx)
		if err != nil {
			return err
		}
		ok := 0
		for _, st := range nodes {
			ms, _ := st.Mount(mount)
			if !st.IcecastOK || !ms.SourceConnected || ms.Title != want {
				return fmt.Errorf("%s publishes Icecast up %v, %s live %v, title %q; want up, live, %q",
					st.Name, st.IcecastOK, mount, ms.SourceConnected, ms.Title, want)
			}
			ok++
		}
		if ok != 2 {
			return fmt.Errorf("%d nodes published", ok)
		}
		return nil
	})
}

// TestTitlesKeepTheirCharacters sets non-ASCII titles through the
// front-end of the node that is not master, in each way sources send
// them, and finds each with its own characters in the stream of the
// relay node, in what both nodes publish, in both front-ends'
// /_status.json and, as text, on their status pages.
func TestTitlesKeepTheirCharacters(t *testing.T) {
	ct.Require(t)
	ctx := testenv.Context(t, 3*time.Minute)
	tc := startTitleCluster(t, ctx, "/titles.mp3")

	for _, c := range []struct {
		name   string
		params url.Values
		want   string // in UTF-8, which the stream carries too
		page   string // on the status page, if not want
	}{
		{name: "UTF-8, charset=UTF-8", want: "Café ♫",
			params: url.Values{"song": {"Café ♫"}, "charset": {"UTF-8"}}},
		// Scripts often name no charset; Icecast took their UTF-8
		// for Latin-1 ("CafÃ© â\u0099«").
		{name: "UTF-8, no charset", want: "Café ♫ (2)",
			params: url.Values{"song": {"Café ♫ (2)"}}},
		{name: "Latin-1, charset=ISO-8859-1", want: "Café (3)",
			params: url.Values{"song": {"Caf\xe9 (3)"}, "charset": {"ISO-8859-1"}}},
		{name: "Latin-1, no charset", want: "Café (4)",
			params: url.Values{"song": {"Caf\xe9 (4)"}}},
		// A title is text: markup and character references in it are
		// shown as they were sent, never interpreted.
		{name: "markup and a reference", want: `<b>x</b> & "y" &#9835;`,
			page:   `&lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34; &amp;#9835;`,
			params: url.Values{"song": {`<b>x</b> & "y" &#9835;`}}},
		// Last: Icecast keeps an artist once set, and puts it before
		// every later song.
		{name: "artist and title", want: "Zoë - Café ♫",
			params: url.Values{"artist": {"Zoë"}, "title": {"Café ♫"}, "charset": {"UTF-8"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tc.setTitle(t, c.params)
			tc.icyTitle(t, ctx, c.want)
			tc.publishedTitles(t, tc.m.Name, c.want)
			page := c.want
			if c.page != "" {
				page = c.page
			}
			testenv.Eventually(t, 10*time.Second, func() error {
				for _, f := range []*ct.Redirectord{tc.f1, tc.f2} {
					if got := statusTitle(t, f, tc.m.Name); got != c.want {
						return fmt.Errorf("%s's /_status.json: title %q, want %q", f.Name, got, c.want)
					}
					if html := get(t, f.URL("/")); !strings.Contains(html, `<p class="title">`+page+"</p>") {
						return fmt.Errorf("%s's status page lacks the title %s:\n%s", f.Name, page, html)
					}
				}
				return nil
			})
		})
	}

	t.Run("Ogg comments", func(t *testing.T) {
		m := ct.NewMount(t, "/titles.ogg")
		if err := tc.c.CreateMount(ctx, m); err != nil {
			t.Fatal(err)
		}
		// ffmpeg writes -metadata into the stream's Vorbis comments.
		args := append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, audiotest.EncodeArgs(m.Name)...)
		args = append(args, "-metadata", "title=Café ♫", "-metadata", "artist=Zoë",
			"icecast://"+strings.TrimPrefix(ct.SourceURL(tc.feAddr(), m), "http://"))
		testenv.Start(t, "sh", append([]string{"-c", `while :; do ffmpeg "$@"; sleep 0.2; done`, "source"}, args...)...)
		tc.publishedTitles(t, m.Name, "Zoë - Café ♫")
		for _, f := range []*ct.Redirectord{tc.f1, tc.f2} {
			if got := statusTitle(t, f, m.Name); got != "Zoë - Café ♫" {
				t.Errorf("%s's /_status.json: title %q, want %q", f.Name, got, "Zoë - Café ♫")
			}
		}
	})
}

// controlBytes is every byte from 0x01 to 0x1F.
var controlBytes = func() string {
	var b strings.Builder
	for c := byte(1); c < 0x20; c++ {
		b.WriteByte(c)
	}
	return b.String()
}()

// TestControlBytesInTitlesOnTwoNodes sends titles with every control
// byte, NUL included, and with invalid UTF-8 through the front-end of the
// node that is not master. The master streams them to the relay node,
// whose Icecast reads them from the stream: both nodes stay up and
// readable, the front-ends still send listeners to them, DNS still
// answers both addresses, and listeners still get audio.
func TestControlBytesInTitlesOnTwoNodes(t *testing.T) {
	ct.Require(t)
	testenv.RequireBinaries(t, "curl", "dig")
	ctx := testenv.Context(t, 3*time.Minute)
	tc := startTitleCluster(t, ctx, "/control.mp3")

	for _, c := range []struct {
		name      string
		params    url.Values
		stream    string // the title in the stream
		published string // the title the nodes publish
	}{
		// Icecast decodes the value into a C string: %00 ends it.
		{name: "bytes 0x00 to 0x1F", stream: "t", published: "t",
			params: url.Values{"song": {"t\x00" + controlBytes + "end"}}},
		// The other control bytes go into the stream as they are; the
		// status shows them as spaces.
		{name: "bytes 0x01 to 0x1F, then 0x00", stream: "t" + controlBytes + "end",
			published: "t" + strings.Repeat(" ", len(controlBytes)) + "end",
			params:    url.Values{"song": {"t" + controlBytes + "end\x00cut"}}},
		// Without a charset, the front-end names ISO-8859-1, in which
		// every byte is a character.
		{name: "invalid UTF-8, no charset", stream: "bad ÿþÃ", published: "bad ÿþÃ",
			params: url.Values{"song": {"bad \xff\xfe\xc3"}}},
		// Said to be UTF-8, it cannot be converted: Icecast streams the
		// bytes as they are and keeps them out of its statistics, which
		// keep the title before.
		{name: "invalid UTF-8, charset=UTF-8", stream: "bad \xff\xfe\xc3 (2)", published: "bad ÿþÃ",
			params: url.Values{"song": {"bad \xff\xfe\xc3 (2)"}, "charset": {"UTF-8"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tc.setTitle(t, c.params)
			tc.icyTitle(t, ctx, c.stream)
			tc.publishedTitles(t, tc.m.Name, c.published)
		})
	}

	for _, r := range []*ct.Radiod{tc.r1, tc.r2} {
		if _, err := r.Status(); err != nil {
			t.Errorf("%s's Icecast status: %v", r.Name, err)
		}
	}
	for _, f := range []*ct.Redirectord{tc.f1, tc.f2} {
		target := redirectTarget(t, f.URL(tc.m.Name))
		if !slices.ContainsFunc(tc.ips, func(ip string) bool {
			return target == fmt.Sprintf("http://%s:%d/_stream%s", ip, tc.httpPort, tc.m.Name)
		}) {
			t.Errorf("%s redirects to %q, want a node's /_stream%s", f.Name, target, tc.m.Name)
		}
		if got := digA(t, f.IP, tc.dnsPort); !slices.Equal(got, tc.ips) {
			t.Errorf("%s: radio.test A = %v, want %v", f.Name, got, tc.ips)
		}
	}
	curlDecodes(t, ctx, tc.f1.URL(tc.m.Name))
	// n2's own stream, through its front-end, still plays the tone. Not
	// every frame need decode: in some runs ffmpeg reported one frame of
	// the relay node's stream as invalid data around these title changes
	// (not analysed yet); what matters here is that the node goes on
	// serving audio.
	data, err := audiotest.Capture(ctx, tc.f2.URL("/_stream"+tc.m.Name), 3*time.Second)
	if err != nil {
		t.Fatalf("listening to n2: %v", err)
	}
	levels, err := audiotest.Levels(ctx, data, 500*time.Millisecond)
	if err != nil {
		t.Fatalf("n2's stream: %v", err)
	}
	if len(levels) < 3 || slices.Max(levels) < -40 {
		t.Errorf("n2's stream: %d half-seconds of audio at %v dB, want at least 3 with the tone", len(levels), levels)
	}
}
