package icecast

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// serverIP is the address the tests of a whole Server bind Icecast to.
const serverIP = "127.0.0.131"

// testServer is a Server running the real icecast2, with its silence
// feeds, on serverIP.
type testServer struct {
	*Server
	port int
}

// startServer runs a Server until the test ends: its web root made by
// InstallWebroot, Icecast dropping root to icecast2 when the test runs
// as root. Nothing runs Icecast before the first Apply.
func startServer(ctx context.Context, t *testing.T) *testServer {
	t.Helper()
	testenv.MustHaveBinaries(t, "icecast2", "ffmpeg")
	dir := sharedDir(t)
	webroot := filepath.Join(dir, "web")
	if err := InstallWebroot(ctx, webroot); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t, serverIP)
	cfg := ServerConfig{
		ConfigPath: filepath.Join(dir, "icecast.xml"), BaseDir: filepath.Join(dir, "state"), WebRoot: webroot,
		URL:           "http://" + net.JoinHostPort(serverIP, strconv.Itoa(port)),
		AdminPassword: "admin-secret", RelayPassword: "relay-secret",
		Logger: slog.New(slog.DiscardHandler),
	}
	if os.Geteuid() == 0 {
		cfg.User, cfg.Group = "icecast2", "icecast"
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("server: %v", err)
		}
	})
	return &testServer{Server: s, port: port}
}

// apply has Icecast run the master config for mounts and waits until it
// shows it.
func (s *testServer) apply(ctx context.Context, t *testing.T, mounts ...*autoradio.Mount) {
	t.Helper()
	p := Params{NodeName: "node", ListenIPs: []string{serverIP}, Port: s.port, MaxListeners: 10,
		IsMaster: true, Mounts: mounts}
	if _, err := s.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, wait, func() error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return s.WaitApplied(ctx)
	})
}

func (s *testServer) url(mount string) string {
	return "http://" + net.JoinHostPort(serverIP, strconv.Itoa(s.port)) + mount
}

// sourceURL is where m's source connects.
func (s *testServer) sourceURL(m *autoradio.Mount) string {
	u := url.URL{Scheme: "http", User: url.UserPassword(m.Username, m.Password),
		Host: net.JoinHostPort(serverIP, strconv.Itoa(s.port)), Path: m.Name}
	return u.String()
}

// loudest is the highest level, in dBFS, of the half-second windows of
// an MP3 capture.
func loudest(ctx context.Context, data []byte) (float64, error) {
	levels, err := audiotest.Levels(ctx, data, 500*time.Millisecond)
	if err != nil {
		return 0, err
	}
	if len(levels) == 0 {
		return 0, fmt.Errorf("no audio in %d bytes", len(data))
	}
	top := levels[0]
	for _, l := range levels {
		top = max(top, l)
	}
	return top, nil
}

// quiet is below any level of the test tone (about -20 dBFS) and above
// the silence feeds (digital silence, -120).
const quiet = -60

// TestSilenceKeepsListenersOnTheirMount: two MP3 mounts without a
// source, each with a listener hearing silence. When a source comes to
// one, its listener hears it; the other mount's listener goes on hearing
// silence. Icecast moves every listener of a mount's fallback source to
// the mount when its source comes (fallback-override), so a silence mount
// shared by both would hand the second mount's listener to the first.
func TestSilenceKeepsListenersOnTheirMount(t *testing.T) {
	ctx := testenv.Context(t, 90*time.Second)
	s := startServer(ctx, t)
	a := &autoradio.Mount{Name: "/a.mp3", Username: "source-a", Password: "pass-a"}
	b := &autoradio.Mount{Name: "/b.mp3", Username: "source-b", Password: "pass-b"}
	s.apply(ctx, t, a, b)
	applied := time.Now()
	testenv.Eventually(t, wait, func() error {
		if n := s.Stats().SilenceFeeds; n < 2 {
			return fmt.Errorf("%d silence feeds streaming, want one for each mount", n)
		}
		return nil
	})

	t.Logf("silence fed %v after Icecast applied the config", time.Since(applied).Round(10*time.Millisecond))
	la, lb := audiotest.Listen(ctx, s.url(a.Name)), audiotest.Listen(ctx, s.url(b.Name))
	defer la.Stop()
	defer lb.Stop()
	for _, l := range []*audiotest.Listener{la, lb} {
		if err := l.WaitBytes(0, 8<<10, wait); err != nil {
			t.Fatalf("%s: no silence: %v", l.URL(), err)
		}
		if db, err := loudest(ctx, l.DataSince(0)); err != nil || db > quiet {
			t.Fatalf("%s without a source: loudest %.1f dBFS (%v), want silence below %d", l.URL(), db, err, quiet)
		}
	}

	markA, markB := la.Mark(), lb.Mark()
	audiotest.Source(t, s.sourceURL(a))
	testenv.Eventually(t, wait, func() error {
		db, err := loudest(ctx, la.DataSince(markA))
		if err == nil && db < quiet {
			err = fmt.Errorf("%s hears no tone yet (loudest %.1f dBFS)", a.Name, db)
		}
		return err
	})
	// The tone has reached A's listener; B's listener must have been
	// moved, if at all, by then. A few more seconds of B, then its whole
	// capture since the source came must be silence.
	if err := lb.WaitBytes(lb.Mark(), 12<<10, wait); err != nil {
		t.Fatalf("%s: %v", b.Name, err)
	}
	db, err := loudest(ctx, lb.DataSince(markB))
	if err != nil {
		t.Fatal(err)
	}
	if db > quiet {
		t.Errorf("%s, which has no source, played audio at %.1f dBFS once %s got its source: its listener was moved to %s",
			b.Name, db, a.Name, a.Name)
	}
	for _, l := range []*audiotest.Listener{la, lb} {
		if err := l.Err(); err != nil {
			t.Errorf("%s: %v", l.URL(), err)
		}
	}
}

// liveSilenceSources returns the live silence mounts that have a source
// now, each followed by its content type, as Icecast's admin statistics
// (which show hidden mounts) list them.
func (s *testServer) liveSilenceSources(ctx context.Context) ([]string, error) {
	c := &StatusClient{URL: s.cfg.URL, AdminPassword: s.cfg.AdminPassword}
	body, err := c.get(ctx, "/admin/stats", true, 1<<20)
	if err != nil {
		return nil, err
	}
	var stats struct {
		Sources []struct {
			Mount string `xml:"mount,attr"`
			Start string `xml:"stream_start"`
			Type  string `xml:"server_type"`
		} `xml:"source"`
	}
	if err := xml.Unmarshal(body, &stats); err != nil {
		return nil, err
	}
	var live []string
	for _, src := range stats.Sources {
		if strings.HasPrefix(src.Mount, liveSilencePrefix+"/") && src.Start != "" {
			live = append(live, src.Mount+" "+src.Type)
		}
	}
	slices.Sort(live)
	return live, nil
}

// TestSilenceFeedsFollowTheConfig: radiod feeds the live silence mount
// of every mount without a fallback of its own, in the mount's codec, as
// configs add, change and remove mounts, and no other.
func TestSilenceFeedsFollowTheConfig(t *testing.T) {
	ctx := testenv.Context(t, 90*time.Second)
	s := startServer(ctx, t)
	for _, step := range []struct {
		name   string
		mounts []*autoradio.Mount
		want   []string
	}{
		{"two mounts", []*autoradio.Mount{{Name: "/a.mp3"}, {Name: "/b.ogg"}},
			[]string{"/_silence-live/a.mp3 audio/mpeg", "/_silence-live/b.ogg application/ogg"}},
		{"one removed, three added, one with a fallback of its own",
			[]*autoradio.Mount{{Name: "/b.ogg"}, {Name: "/c/d.aac"}, {Name: "/e.mp3", Fallback: "/b.ogg"}, {Name: "/t"}},
			[]string{"/_silence-live/b.ogg application/ogg", "/_silence-live/c/d.aac audio/aac", "/_silence-live/t audio/mpeg"}},
		{"a mount becomes transcoded to another codec",
			[]*autoradio.Mount{{Name: "/b.ogg"}, {Name: "/c/d.aac"}, {Name: "/e.mp3", Fallback: "/b.ogg"},
				{Name: "/t", Transcoding: &autoradio.Transcoding{Codec: "opus"}}},
			[]string{"/_silence-live/b.ogg application/ogg", "/_silence-live/c/d.aac audio/aac", "/_silence-live/t application/ogg"}},
		{"no mounts", nil, nil},
	} {
		s.apply(ctx, t, step.mounts...)
		testenv.Eventually(t, wait, func() error {
			live, err := s.liveSilenceSources(ctx)
			if err != nil {
				return err
			}
			if !slices.Equal(live, step.want) || s.Stats().SilenceFeeds != len(step.want) {
				return fmt.Errorf("%s: live silence mounts with a source %q, %d feeds streaming; want %q",
					step.name, live, s.Stats().SilenceFeeds, step.want)
			}
			return nil
		})
	}
}

// TestSilenceWithoutBurst: a client that connects to a mount while it
// is on its live silence (a player, a relay, a front-end's feed
// reconnecting) gets that silence as it is fed, not a burst of it. With
// the node's 64 KB burst, Icecast handed it 16 s of the 32 kbit/s
// silence at once, which a player plays in full: that long a silence for
// an outage of a second, and that far behind live afterwards.
func TestSilenceWithoutBurst(t *testing.T) {
	ctx := testenv.Context(t, 90*time.Second)
	s := startServer(ctx, t)
	m := &autoradio.Mount{Name: "/quiet.mp3", Username: "source-q", Password: "pass-q"}
	s.apply(ctx, t, m)
	// The feed must have run long enough for Icecast to hold more than a
	// burst's worth of it: 64 KB of 32 kbit/s is 16 s.
	fed := time.Now()
	testenv.Eventually(t, wait, func() error {
		if n := s.Stats().SilenceFeeds; n < 1 {
			return fmt.Errorf("%d silence feeds streaming", n)
		}
		return nil
	})
	time.Sleep(time.Until(fed.Add(18 * time.Second))) // the queue to fill is the condition under test

	l := audiotest.Listen(ctx, s.url(m.Name))
	defer l.Stop()
	if err := l.WaitBytes(0, 1, wait); err != nil {
		t.Fatal(err)
	}
	from := time.Now()
	const window = 3 * time.Second
	time.Sleep(window) // the window is what is measured, not a wait for a state
	got := l.DataSince(0)
	elapsed := time.Since(from)
	file := filepath.Join(t.TempDir(), "quiet.mp3")
	if err := os.WriteFile(file, got, 0o600); err != nil {
		t.Fatal(err)
	}
	audio, err := audiotest.Duration(ctx, file)
	if err != nil {
		t.Fatalf("%d bytes: %v", len(got), err)
	}
	t.Logf("%d bytes, %v of audio in the first %v", len(got), audio.Round(10*time.Millisecond), elapsed.Round(10*time.Millisecond))
	// The feed runs up to 2 s ahead of its pace; 3 s more of slack.
	if limit := elapsed + 5*time.Second; audio > limit {
		t.Errorf("a new listener of a mount on its silence got %v of audio in %v, more than %v: a burst of silence", audio, elapsed, limit)
	}
	if db, err := loudest(ctx, got); err != nil || db > quiet {
		t.Errorf("the listener hears %.1f dBFS (%v), want the silence", db, err)
	}
}
