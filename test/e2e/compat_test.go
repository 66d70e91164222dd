package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// compatBinaries are the real clients of TestCompat and what runs them.
// A missing one fails the test, in CI or not: a skip would leave the
// report saying nothing of a client that was never tried.
var compatBinaries = []string{"ezstream", "ices2", "liquidsoap", "gst-launch-1.0", "ffmpeg", "curl", "darkice",
	"mpv", "mpg123", "cvlc", "setpriv", "timeout"}

// TestCompat runs real source clients and players against a 2-node
// cluster, talking only to its front-ends: each source pushes to n2's
// front-end and is heard on n1; each player opens the mount, its
// playlists and, for titles, each node's stream. What it observed is a
// table per kind of client, logged, and written to $COMPAT_REPORT when
// set (README's "Works with" is one).
func TestCompat(t *testing.T) {
	ct.Require(t)
	testenv.MustHaveBinaries(t, compatBinaries...)
	ctx := testenv.Context(t, 5*time.Minute)
	cc := startCompatCluster(t)
	sources, playerTable := newCompatTable(sourceColumns...), newCompatTable(playerColumns...)
	defer writeCompatReport(t, sources, playerTable)

	// The players' mount exists long before its source, as in production:
	// created now, it is fed once the sources are done, through n2's
	// front-end by ffmpeg, with a title set before any player comes.
	const mount, title = "/players.mp3", "Players Artist - Late Title"
	m := cc.newMount(t, ctx, mount, "")
	created := time.Now()

	t.Run("sources", func(t *testing.T) {
		for _, sc := range sourceClients {
			row := sources.row(sc.name)
			t.Run(strings.TrimPrefix(sc.mount, "/"), func(t *testing.T) {
				t.Parallel()
				checkSource(t, ctx, cc, sc, row)
			})
		}
	})

	t.Logf("the players' mount gets its source %v after it was created", time.Since(created).Round(time.Second))
	audiotest.Source(t, ct.SourceURL(cc.f2.IP+":"+strconv.Itoa(cc.httpPort), m))
	cc.r1.WaitSource(20*time.Second, mount)
	testenv.Eventually(t, 20*time.Second, func() error { return mountLiveOn(cc.c, mount, 2) })
	curlMetadata(t, ctx, cc, m, title)
	testenv.Eventually(t, 20*time.Second, func() error { return statusTitleIs(t, cc.f1, mount, title) })
	for _, f := range []*ct.Redirectord{cc.f1, cc.f2} {
		icy, err := audiotest.ListenIcy(ctx, f.URL("/_stream"+mount))
		if err != nil {
			t.Fatal(err)
		}
		if err := icy.WaitMeta("StreamTitle='" + title + "';"); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		icy.Close()
	}
	t.Run("players", func(t *testing.T) {
		for _, p := range players {
			row := playerTable.row(p.name)
			t.Run(strings.Fields(p.name)[0], func(t *testing.T) {
				t.Parallel()
				checkPlayer(t, ctx, cc, p, mount, title, row)
			})
		}
	})
}
