package main

import (
	"reflect"
	"strings"
	"testing"

	"autoradio"
	"autoradio/cmd/internal/cli"
)

func TestCreateMountPrintsCredentialsAndURLs(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	out := c.ok("--domain", "radio.example.com", "create-mount", "/live.ogg")
	m := c.mount("/live.ogg")
	if m.Username == "" || len(m.Password) < 20 {
		t.Fatalf("stored credentials %q/%q", m.Username, m.Password)
	}
	if field(out, "username") != m.Username || field(out, "password") != m.Password {
		t.Errorf("printed credentials differ from the stored ones:\n%s", out)
	}
	if want := "http://" + m.Username + ":" + m.Password + "@radio.example.com/live.ogg"; field(out, "source URL") != want {
		t.Errorf("source URL %q, want %q", field(out, "source URL"), want)
	}
	if want := "http://radio.example.com/live.ogg"; field(out, "listen URL") != want {
		t.Errorf("listen URL %q, want %q", field(out, "listen URL"), want)
	}

	// A second mount gets other credentials; without a domain the path is
	// printed with a note.
	out = c.ok("create-mount", "/other.ogg", "--fallback", "/live.ogg")
	if o := c.mount("/other.ogg"); o.Password == m.Password || o.Fallback != "/live.ogg" {
		t.Errorf("second mount %+v", o)
	}
	if !strings.Contains(field(out, "path"), "/other.ogg (no --domain or AUTORADIO_DOMAIN set") || field(out, "listen URL") != "" {
		t.Errorf("output without a domain:\n%s", out)
	}
}

func TestCreateMountDomainFromEnvironment(t *testing.T) {
	// Not parallel: it sets the environment of the whole process.
	c := newCluster(t)
	t.Setenv("AUTORADIO_DOMAIN", "env.example.com")
	out := c.ok("create-mount", "/a.mp3")
	if field(out, "listen URL") != "http://env.example.com/a.mp3" {
		t.Errorf("AUTORADIO_DOMAIN not used:\n%s", out)
	}
	out = c.ok("create-mount", "/b.mp3", "--domain", "flag.example.com")
	if field(out, "listen URL") != "http://flag.example.com/b.mp3" {
		t.Errorf("--domain did not win over the environment:\n%s", out)
	}
}

func TestCreateRelayMountHasNoCredentials(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	out := c.ok("--domain", "radio.example.com", "create-mount", "/relay.mp3", "--relay", "http://up.example.org:8000/s.mp3")
	m := c.mount("/relay.mp3")
	if m.RelayURL != "http://up.example.org:8000/s.mp3" || m.Username != "" || m.Password != "" {
		t.Errorf("relay mount stored as %+v", m)
	}
	if field(out, "relayed from") != m.RelayURL || field(out, "password") != "" || field(out, "source URL") != "" ||
		field(out, "listen URL") != "http://radio.example.com/relay.mp3" {
		t.Errorf("relay output:\n%s", out)
	}
}

// --username sets the source username (darkice always sends "source"); the
// password stays generated, and an edit keeps it.
func TestUsernameFlag(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	out := c.ok("create-mount", "/dark.mp3", "--username", "source")
	m := c.mount("/dark.mp3")
	if m.Username != "source" || len(m.Password) < 20 || field(out, "username") != "source" || field(out, "password") != m.Password {
		t.Fatalf("stored %q/%q, printed:\n%s", m.Username, m.Password, out)
	}
	out = c.ok("edit-mount", "/dark.mp3", "--username", "studio")
	if e := c.mount("/dark.mp3"); e.Username != "studio" || e.Password != m.Password || field(out, "username") != "studio" {
		t.Errorf("after --username studio: stored %q/%q (password was %q), printed:\n%s", e.Username, e.Password, m.Password, out)
	}
	c.ok("edit-mount", "/dark.mp3", "--username", "")
	if e := c.mount("/dark.mp3"); !strings.HasPrefix(e.Username, "source") || e.Username == "source" || e.Password != m.Password {
		t.Errorf(`after --username "": stored %q/%q, want a random username and the same password`, e.Username, e.Password)
	}
	c.fails(1, "colon", "create-mount", "/bad.mp3", "--username", "a:b")
	c.fails(1, "a relay mount has no source credentials", "create-mount", "/r.mp3", "--relay", "http://up.example.org/s.mp3", "--username", "source")
}

func TestCommandsRefuseBadInput(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.ok("create-mount", "/live.ogg")
	c.ok("create-mount", "/main.ogg", "--fallback", "/live.ogg")
	long := "/" + strings.Repeat("x", 200)
	for _, tc := range []struct {
		name string
		code int
		msg  string
		args []string
	}{
		{"invalid path", 1, autoradio.ValidateMountPath("/x.m3u").Error(), []string{"create-mount", "/x.m3u"}},
		{"dot-dot path", 1, `mount path "/../x" has a ".." segment`, []string{"create-mount", "/../x"}},
		{"long path", 1, "201 bytes long, the limit is 200", []string{"show-mount", long}},
		{"reserved path", 1, "must not start with /_", []string{"delete-mount", "/_stream/x"}},
		{"edit invalid path", 1, "must start with /", []string{"edit-mount", "x", "--fallback", ""}},
		{"duplicate", 1, "/live.ogg: mount already exists", []string{"create-mount", "/live.ogg"}},
		{"unknown show", 1, "/nope.ogg: mount does not exist", []string{"show-mount", "/nope.ogg"}},
		{"unknown edit", 1, "/nope.ogg: mount does not exist", []string{"edit-mount", "/nope.ogg", "--fallback", "/live.ogg"}},
		{"unknown delete", 1, "/nope.ogg: mount does not exist", []string{"delete-mount", "/nope.ogg"}},
		{"bad relay scheme", 1, `relay URL "https://up/s": scheme must be http`, []string{"create-mount", "/r", "--relay", "https://up/s"}},
		{"relay without path", 1, "has no mount path", []string{"create-mount", "/r", "--relay", "http://up:8000"}},
		{"missing fallback", 1, "fallback of /a: /nope: mount does not exist", []string{"create-mount", "/a", "--fallback", "/nope"}},
		{"own fallback", 1, "a mount cannot be its own fallback", []string{"create-mount", "/a", "--fallback", "/a"}},
		{"missing source", 1, "transcoding source of /t.mp3: /nope: mount does not exist", []string{"create-transcoding-mount", "/t.mp3", "--source", "/nope"}},
		{"self source", 1, "cannot transcode itself", []string{"create-transcoding-mount", "/t.mp3", "--source", "/t.mp3"}},
		{"bad codec", 1, `unknown codec "flac"`, []string{"create-transcoding-mount", "/t", "--source", "/live.ogg", "--codec", "flac"}},
		{"bad mp3 bitrate", 1, "bitrate 100 kbit/s is not an mp3 bitrate", []string{"create-transcoding-mount", "/t", "--source", "/live.ogg", "--bitrate", "100"}},
		{"bad samplerate", 1, "samplerate 1234 Hz", []string{"create-transcoding-mount", "/t", "--source", "/live.ogg", "--samplerate", "1234"}},
		{"opus quality", 1, "quality is not supported for opus", []string{"create-transcoding-mount", "/t", "--source", "/live.ogg", "--codec", "opus", "--quality", "3"}},
		{"stereo mono", 1, `stereo mode "stereo" needs 2 channels`, []string{"create-transcoding-mount", "/t", "--source", "/live.ogg", "--channels", "1", "--stereo-mode", "stereo"}},
		{"no source flag", 2, `required flag(s) "source" not set`, []string{"create-transcoding-mount", "/t"}},
		{"in use", 1, "/live.ogg is the fallback of /main.ogg: mount is in use by another mount", []string{"delete-mount", "/live.ogg"}},
		{"edit nothing", 1, "nothing to change", []string{"edit-mount", "/live.ogg"}},
		{"edit encoding of plain mount", 1, "/live.ogg is not a transcoding mount: give --source", []string{"edit-mount", "/live.ogg", "--bitrate", "64"}},
		{"bad timeout", 1, "--timeout must be positive", []string{"--timeout", "0s", "list-mounts"}},
		{"missing argument", cli.ExitUsage, "accepts 1 arg(s), received 0", []string{"show-mount"}},
		{"extra argument", cli.ExitUsage, "accepts 1 arg(s), received 2", []string{"delete-mount", "/a", "/b"}},
		{"unknown flag", cli.ExitUsage, "unknown flag: --codec", []string{"create-mount", "/a", "--codec", "mp3"}},
		{"bad number", cli.ExitUsage, `invalid argument "fast" for "--bitrate"`, []string{"edit-mount", "/a", "--bitrate", "fast"}},
		{"unknown command", cli.ExitUsage, `unknown command "create"`, []string{"create", "/a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkFailure(t, c.ctl(tc.args...), tc.code, tc.msg, tc.args)
		})
	}
	if got := strings.Fields(c.ok("list-mounts")); !reflect.DeepEqual(got, []string{"/live.ogg", "/main.ogg"}) {
		t.Errorf("failed commands changed the mounts: %q", got)
	}
}

func TestTranscodingMountDefaultsAndEdits(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.ok("create-mount", "/live.ogg")
	c.ok("create-mount", "/other.ogg")
	out := c.ok("--domain", "radio.example.com", "create-transcoding-mount", "/live.mp3", "--source", "/live.ogg")
	if field(out, "transcoded from") != "/live.ogg" || field(out, "source URL") != "" || field(out, "listen URL") != "http://radio.example.com/live.mp3" {
		t.Errorf("output:\n%s", out)
	}
	m := c.mount("/live.mp3")
	want := autoradio.Transcoding{SourceName: "/live.ogg", Codec: "mp3", Bitrate: 128, SampleRate: 44100, Channels: 2, StereoMode: "joint_stereo"}
	if m.Transcoding == nil || *m.Transcoding != want || m.Password == "" {
		t.Fatalf("stored %+v, transcoding %+v; want credentials (liquidsoap pushes with them) and %+v", m, m.Transcoding, want)
	}

	steps := []struct {
		args []string
		want autoradio.Transcoding
	}{
		{[]string{"--bitrate", "64"}, autoradio.Transcoding{SourceName: "/live.ogg", Codec: "mp3", Bitrate: 64, SampleRate: 44100, Channels: 2, StereoMode: "joint_stereo"}},
		{[]string{"--channels", "1"}, autoradio.Transcoding{SourceName: "/live.ogg", Codec: "mp3", Bitrate: 64, SampleRate: 44100, Channels: 1, StereoMode: "mono"}},
		{[]string{"--codec", "opus"}, autoradio.Transcoding{SourceName: "/live.ogg", Codec: "opus", Bitrate: 64, SampleRate: 48000, Channels: 1}},
		{[]string{"--codec", "vorbis", "--quality", "0.4", "--source", "/other.ogg"}, autoradio.Transcoding{SourceName: "/other.ogg", Codec: "vorbis", Quality: new(0.4), SampleRate: 44100, Channels: 1}},
		{[]string{"--quality", "0"}, autoradio.Transcoding{SourceName: "/other.ogg", Codec: "vorbis", Quality: new(0.0), SampleRate: 44100, Channels: 1}},
		{[]string{"--bitrate", "96"}, autoradio.Transcoding{SourceName: "/other.ogg", Codec: "vorbis", Bitrate: 96, SampleRate: 44100, Channels: 1}},
		{[]string{"--codec", ""}, autoradio.Transcoding{SourceName: "/other.ogg", Codec: "mp3", Bitrate: 128, SampleRate: 44100, Channels: 1, StereoMode: "mono"}},
	}
	for _, s := range steps {
		args := append([]string{"edit-mount", "/live.mp3"}, s.args...)
		if out := c.ok(args...); out != "updated mount /live.mp3\n" {
			t.Errorf("radioctl %q printed %q", args, out)
		}
		got := c.mount("/live.mp3")
		if got.Transcoding == nil || !reflect.DeepEqual(*got.Transcoding, s.want) {
			t.Fatalf("after %q: %+v, want %+v", s.args, got.Transcoding, s.want)
		}
		if got.Password != m.Password {
			t.Fatalf("after %q: credentials changed", s.args)
		}
	}
	c.fails(1, "stereo mode applies to mp3 only, not opus", "edit-mount", "/live.mp3", "--codec", "opus", "--stereo-mode", "stereo")
	c.fails(1, "a mount cannot both relay an upstream URL and be transcoded", "edit-mount", "/live.mp3", "--relay", "http://up/s")
	c.fails(1, "/other.ogg is the transcoding source of /live.mp3", "delete-mount", "/other.ogg")
	c.fails(1, `--source "" removes the transcoding`, "edit-mount", "/live.mp3", "--source", "", "--bitrate", "64")

	c.ok("edit-mount", "/live.mp3", "--source", "")
	if got := c.mount("/live.mp3"); got.Transcoding != nil || got.Password != m.Password {
		t.Errorf("after --source \"\": %+v", got)
	}
	c.ok("delete-mount", "/other.ogg")
}

func TestEditMountOnlyChangesFlagsGiven(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.ok("create-mount", "/fb.ogg")
	c.ok("create-mount", "/live.ogg", "--fallback", "/fb.ogg")
	before := c.mount("/live.ogg")

	c.ok("edit-mount", "/live.ogg", "--fallback", "")
	after := c.mount("/live.ogg")
	if after.Fallback != "" || after.Username != before.Username || after.Password != before.Password {
		t.Fatalf("--fallback \"\": %+v, before %+v", after, before)
	}
	c.fails(1, "fallback of /live.ogg: /gone: mount does not exist", "edit-mount", "/live.ogg", "--fallback", "/gone")

	// To a relay: credentials go. Back: new ones, printed.
	c.ok("edit-mount", "/live.ogg", "--relay", "http://up.example.org/s.ogg", "--fallback", "/fb.ogg")
	if m := c.mount("/live.ogg"); m.RelayURL != "http://up.example.org/s.ogg" || m.Username != "" || m.Fallback != "/fb.ogg" {
		t.Fatalf("relay: %+v", m)
	}
	out := c.ok("edit-mount", "/live.ogg", "--relay", "", "--domain", "radio.example.com")
	m := c.mount("/live.ogg")
	if m.RelayURL != "" || m.Password == "" || m.Password == before.Password || m.Fallback != "/fb.ogg" {
		t.Fatalf("relay cleared: %+v", m)
	}
	if field(out, "password") != m.Password || field(out, "source URL") == "" {
		t.Errorf("new credentials not printed:\n%s", out)
	}
}

func TestListShowDelete(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	if out := c.ok("list-mounts"); out != "" {
		t.Errorf("list-mounts on an empty cluster: %q", out)
	}
	c.ok("create-mount", "/b.ogg")
	c.ok("create-mount", "/a/x.ogg", "--relay", "http://up:8000/x.ogg")
	c.ok("create-transcoding-mount", "/b.opus", "--source", "/b.ogg", "--codec", "opus", "--bitrate", "48", "--fallback", "/a/x.ogg")
	if out := c.ok("list-mounts"); out != "/a/x.ogg\n/b.ogg\n/b.opus\n" {
		t.Errorf("list-mounts: %q", out)
	}
	m := c.mount("/b.opus")
	want := "name: /b.opus\n" +
		"username: " + m.Username + "\n" +
		"password: " + m.Password + "\n" +
		"fallback: /a/x.ogg\n" +
		"transcoding:\n" +
		"  source_name: /b.ogg\n" +
		"  codec: opus\n" +
		"  bitrate: 48\n" +
		"  samplerate: 48000\n" +
		"  channels: 2\n"
	if out := c.ok("show-mount", "/b.opus"); out != want {
		t.Errorf("show-mount:\n%s\nwant:\n%s", out, want)
	}
	if out := c.ok("show-mount", "/a/x.ogg"); out != "name: /a/x.ogg\nrelay_url: http://up:8000/x.ogg\n" {
		t.Errorf("show-mount of a relay: %q", out)
	}
	c.fails(1, "/a/x.ogg is the fallback of /b.opus", "delete-mount", "/a/x.ogg")
	if out := c.ok("delete-mount", "/b.opus"); out != "deleted mount /b.opus\n" {
		t.Errorf("delete-mount printed %q", out)
	}
	c.ok("delete-mount", "/a/x.ogg")
	if out := c.ok("list-mounts"); out != "/b.ogg\n" {
		t.Errorf("list-mounts after deletes: %q", out)
	}
}
