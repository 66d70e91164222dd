package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// sourceClient is a real source client, as the suite runs it.
type sourceClient struct {
	name, protocol string
	mount          string
	// user is the mount's username, for a client that cannot choose one;
	// empty for a generated one.
	user string
	// titleBy says how the title is set. With ownTitle the client sets it
	// itself, from the tags of what it plays; without, the client has no
	// way to, and the test sets it as an operator would, with curl GET
	// /admin/metadata through the front-end.
	titleBy  string
	ownTitle bool
	// refusal is what the client says when the server refuses it; retries
	// tells a client that keeps trying from one that then exits.
	refusal *regexp.Regexp
	retries bool
	start   func(t *testing.T, r sourceRun) *testenv.Proc
}

// sourceRun is what a source client is started with.
type sourceRun struct {
	dir           string // a directory of the client's own
	host          string // the front-end it pushes to
	port          int
	mount         string
	user, pass    string
	artist, title string // the tags of what it plays
}

func (r sourceRun) ogg() bool { return strings.HasSuffix(r.mount, ".ogg") }

// song returns the file a client plays, 60 s of a 440 Hz tone tagged
// with the run's artist and title, made on first use.
func (r sourceRun) song(t *testing.T) string {
	t.Helper()
	file := filepath.Join(r.dir, "song.mp3")
	codec := []string{"-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "3"}
	if r.ogg() {
		file = filepath.Join(r.dir, "song.ogg")
		codec = []string{"-c:a", "libvorbis", "-q:a", "4"}
	}
	if _, err := os.Stat(file); err == nil {
		return file
	}
	args := append([]string{"-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=60"}, codec...)
	args = append(args, "-metadata", "artist="+r.artist, "-metadata", "title="+r.title, file)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("making %s: %v\n%s", file, err, out)
	}
	return file
}

// file writes a file of the client's, readable by its owner only (ezstream
// refuses a world-readable configuration).
func (r sourceRun) file(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(r.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var sourceClients = []sourceClient{
	{name: "ezstream (MP3)", protocol: "HTTP PUT (libshout)", mount: "/ezstream.mp3", ownTitle: true,
		titleBy: "the file's tags, GET /admin/metadata", refusal: regexp.MustCompile(`Login failed`), start: ezstream},
	{name: "ezstream (Ogg)", protocol: "HTTP PUT (libshout)", mount: "/ezstream.ogg", ownTitle: true,
		titleBy: "the file's Vorbis comments, in the stream", refusal: regexp.MustCompile(`Login failed`), start: ezstream},
	{name: "ices2 (Ogg Vorbis)", protocol: "HTTP PUT (libshout)", mount: "/ices2.ogg", ownTitle: true,
		titleBy: "the file's Vorbis comments, in the stream", refusal: regexp.MustCompile(`Login failed`), start: ices2},
	{name: `liquidsoap 2.1 (method="put")`, protocol: "HTTP PUT", mount: "/liquidsoap-put.mp3", ownTitle: true,
		titleBy: "the file's tags, GET /admin/metadata", refusal: liquidsoapRefusal, retries: true, start: liquidsoap(`method="put"`)},
	{name: `liquidsoap 2.1 (method="source")`, protocol: "SOURCE", mount: "/liquidsoap-source.mp3", ownTitle: true,
		titleBy: "the file's tags, GET /admin/metadata", refusal: liquidsoapRefusal, retries: true, start: liquidsoap(`method="source"`)},
	{name: "liquidsoap 2.1 (chunked=true)", protocol: "HTTP PUT, chunked", mount: "/liquidsoap-chunked.mp3", ownTitle: true,
		titleBy: "the file's tags, GET /admin/metadata", refusal: liquidsoapRefusal, retries: true, start: liquidsoap(`method="put", chunked=true`)},
	{name: "GStreamer shout2send", protocol: "HTTP PUT (libshout)", mount: "/shout2send.mp3", ownTitle: true,
		titleBy: "stream tags (taginject), GET /admin/metadata", refusal: regexp.MustCompile(`Could not connect to server`), start: shout2send},
	{name: "ffmpeg (Ogg Vorbis)", protocol: "HTTP PUT", mount: "/ffmpeg-put.ogg", ownTitle: true,
		titleBy: "-metadata, in the stream", refusal: regexp.MustCompile(`Server returned 40[13]`), start: ffmpegSource()},
	{name: "ffmpeg -legacy_icecast 1 (MP3)", protocol: "SOURCE", mount: "/ffmpeg-source.mp3",
		titleBy: "n/a (none for MP3: curl GET /admin/metadata)", refusal: regexp.MustCompile(`Broken pipe|Connection reset by peer`), start: ffmpegSource("-legacy_icecast", "1")},
	{name: "curl -T - (fed by ffmpeg)", protocol: "HTTP PUT, chunked", mount: "/curl.mp3",
		titleBy: "n/a (curl GET /admin/metadata)", refusal: regexp.MustCompile(`error: 40[13]`), start: curlSource},
	{name: "darkice 1.3 (MP3, ALSA input)", protocol: "HTTP PUT", mount: "/darkice.mp3", user: "source",
		titleBy: "n/a (curl GET /admin/metadata)", refusal: regexp.MustCompile(`wrong password|forbidden`), start: darkice},
}

var liquidsoapRefusal = regexp.MustCompile(`Connection failed: 40[13]`)

// refusalCode finds the status code or reason a refused client printed.
var refusalCode = regexp.MustCompile(`40[13]|Login failed|wrong password|forbidden|Could not connect to server`)

func ezstream(t *testing.T, r sourceRun) *testenv.Proc {
	format := "MP3"
	if r.ogg() {
		format = "OGG"
	}
	playlist := r.file(t, "playlist.m3u", r.song(t)+"\n")
	conf := r.file(t, "ezstream.xml", fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<ezstream>
  <servers><server>
    <protocol>HTTP</protocol><hostname>%s</hostname><port>%d</port>
    <user>%s</user><password>%s</password>
  </server></servers>
  <streams><stream><mountpoint>%s</mountpoint><format>%s</format></stream></streams>
  <intakes><intake><type>playlist</type><filename>%s</filename></intake></intakes>
  <metadata><format_str>@a@ - @t@</format_str></metadata>
</ezstream>
`, r.host, r.port, r.user, r.pass, r.mount, format, playlist))
	return testenv.Start(t, "ezstream", "-c", conf)
}

func ices2(t *testing.T, r sourceRun) *testenv.Proc {
	playlist := r.file(t, "playlist.txt", r.song(t)+"\n")
	conf := r.file(t, "ices.xml", fmt.Sprintf(`<?xml version="1.0"?>
<ices>
  <background>0</background>
  <logpath>%s</logpath><logfile>ices.log</logfile><loglevel>3</loglevel><consolelog>1</consolelog>
  <stream>
    <metadata><name>ices2</name></metadata>
    <input>
      <module>playlist</module>
      <param name="type">basic</param>
      <param name="file">%s</param>
      <param name="random">0</param>
      <param name="once">0</param>
    </input>
    <instance>
      <hostname>%s</hostname><port>%d</port>
      <username>%s</username><password>%s</password>
      <mount>%s</mount>
    </instance>
  </stream>
</ices>
`, r.dir, playlist, r.host, r.port, r.user, r.pass, r.mount))
	return testenv.Start(t, "ices2", conf)
}

// liquidsoap plays a tagged file with output.icecast and the given extra
// arguments.
func liquidsoap(extra string) func(t *testing.T, r sourceRun) *testenv.Proc {
	return func(t *testing.T, r sourceRun) *testenv.Proc {
		script := r.file(t, "source.liq", fmt.Sprintf(`settings.init.allow_root.set(true)
settings.log.stdout.set(true)
settings.log.file.set(false)
output.icecast(%%mp3(bitrate=128), host=%q, port=%d, user=%q, password=%q, mount=%q, %s,
  mksafe(single(%q)))
`, r.host, r.port, r.user, r.pass, r.mount, extra, r.song(t)))
		return testenv.Start(t, "liquidsoap", script)
	}
}

// shout2send encodes a live test tone to MP3, tagged with taginject.
func shout2send(t *testing.T, r sourceRun) *testenv.Proc {
	tags := `tags="artist=\"` + r.artist + `\",title=\"` + r.title + `\""`
	return testenv.Start(t, "gst-launch-1.0", "audiotestsrc", "is-live=true", "!", "taginject", tags, "!",
		"audioconvert", "!", "lamemp3enc", "target=bitrate", "bitrate=128", "cbr=true", "!",
		"shout2send", "ip="+r.host, "port="+strconv.Itoa(r.port), "mount="+r.mount,
		"username="+r.user, "password="+r.pass)
}

// ffmpegSource runs ffmpeg once (it does not retry), with extra output
// options.
func ffmpegSource(extra ...string) func(t *testing.T, r sourceRun) *testenv.Proc {
	return func(t *testing.T, r sourceRun) *testenv.Proc {
		args := append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, audiotest.EncodeArgs(r.mount)...)
		args = append(args, "-metadata", "artist="+r.artist, "-metadata", "title="+r.title)
		args = append(append(args, extra...), fmt.Sprintf("icecast://%s:%s@%s:%d%s", r.user, r.pass, r.host, r.port, r.mount))
		return testenv.Start(t, "ffmpeg", args...)
	}
}

// curlSource pipes ffmpeg's MP3 into curl -T -, a chunked PUT.
func curlSource(t *testing.T, r sourceRun) *testenv.Proc {
	script := `ffmpeg -nostdin -hide_banner -loglevel error "${@:3}" - | curl -sS --fail -T - -H 'Content-Type: audio/mpeg' -u "$1" "$2"`
	args := append([]string{"-c", script, "curl-source", r.user + ":" + r.pass,
		fmt.Sprintf("http://%s:%d%s", r.host, r.port, r.mount)}, audiotest.EncodeArgs(r.mount)...)
	return testenv.Start(t, "bash", args...)
}

// darkice has no file input: it reads a tone that ffmpeg writes in real
// time, through an ALSA device of its own (a file plugin that reads its
// standard input), and it always logs in as user "source".
func darkice(t *testing.T, r sourceRun) *testenv.Proc {
	r.file(t, ".asoundrc", `pcm.compat {
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "/dev/stdin"
    format "raw"
}
`)
	conf := r.file(t, "darkice.cfg", fmt.Sprintf(`[general]
duration = 0
bufferSecs = 1
reconnect = no

[input]
device = compat
sampleRate = 44100
bitsPerSample = 16
channel = 2

[icecast2-0]
bitrateMode = cbr
bitrate = 128
format = mp3
server = %s
port = %d
password = %s
mountPoint = %s
name = darkice
`, r.host, r.port, r.pass, strings.TrimPrefix(r.mount, "/")))
	script := `ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi -i sine=frequency=440 -f s16le -ar 44100 -ac 2 - | darkice -c "$1"`
	cmd := exec.Command("bash", "-c", script, "darkice", conf)
	cmd.Env = append(os.Environ(), "HOME="+r.dir) // ALSA reads $HOME/.asoundrc
	return testenv.StartCmd(t, cmd)
}

// sourceColumns are the columns of the sources' table.
var sourceColumns = []string{"source client", "protocol", "streams", "wrong password", "busy mount",
	"decodes on the other node", "title set by", "title at a listener of the other node", "title in /_status.json"}

// checkSource runs a source client against the front-end of n2 and
// listens on n1, filling in its row of the report.
func checkSource(t *testing.T, ctx context.Context, cc *compatCluster, sc sourceClient, row *compatRow) {
	m := cc.newMount(t, ctx, sc.mount, sc.user)
	run := sourceRun{dir: t.TempDir(), host: cc.f2.IP, port: cc.httpPort, mount: m.Name, user: m.Username, pass: "wrong",
		artist: "Artist of " + sc.mount, title: "Title on " + sc.mount}
	row.set("protocol", sc.protocol)

	row.check("wrong password", func() string {
		how := refused(t, sc, sc.start(t, run))
		if st, err := cc.r1.Status(); err != nil {
			t.Fatal(err)
		} else if ms, ok := st.Mount(m.Name); ok && ms.SourceConnected {
			t.Fatalf("%s: a source with a wrong password got in", sc.name)
		}
		return "refused, " + how
	})
	run.pass = m.Password
	var src *testenv.Proc
	row.check("streams", func() string {
		src = sc.start(t, run)
		cc.hasSource(t, 20*time.Second, m.Name)
		return "yes"
	})
	row.check("busy mount", func() string {
		busy := t.TempDir()
		second := run
		second.dir = busy
		how := refused(t, sc, sc.start(t, second))
		select {
		case <-src.Done():
			t.Fatalf("%s: the first source ended when a second came", sc.name)
		default:
		}
		cc.hasSource(t, time.Second, m.Name)
		return "refused, " + how
	})

	want := run.artist + " - " + run.title
	row.set("title set by", sc.titleBy)
	if !sc.ownTitle {
		curlMetadata(t, ctx, cc, m, want)
	}
	row.check("title in /_status.json", func() string {
		testenv.Eventually(t, 20*time.Second, func() error { return statusTitleIs(t, cc.f1, m.Name, want) })
		return "yes"
	})
	listen := cc.f1.URL("/_stream" + m.Name)
	var capture []byte
	row.check("decodes on the other node", func() string {
		var err error
		capture, err = audiotest.Capture(ctx, listen, 5*time.Second)
		if err != nil {
			t.Fatalf("listening on n1: %v", err)
		}
		if err := audiotest.DecodeJoined(ctx, capture, 2*time.Second); err != nil {
			t.Fatalf("capture on n1 (kept in %s): %v", keep(t, capture), err)
		}
		return "yes"
	})
	row.check("title at a listener of the other node", func() string {
		if run.ogg() {
			// Ogg carries its titles in the stream: a listener's header
			// pages hold them as Vorbis comments.
			if !bytes.Contains(bytes.ToLower(capture), bytes.ToLower([]byte("title="+run.title))) {
				t.Fatalf("no Vorbis comment title=%s in the capture on n1", run.title)
			}
			return "yes (Vorbis comment)"
		}
		lctx, cancel := context.WithTimeout(ctx, testenv.Bound(15*time.Second))
		defer cancel()
		icy, err := audiotest.ListenIcy(lctx, listen)
		if err != nil {
			t.Fatal(err)
		}
		defer icy.Close()
		if err := icy.WaitMeta("StreamTitle='" + want + "';"); err != nil {
			t.Fatalf("ICY listener on n1: %v", err)
		}
		return "yes (ICY)"
	})
}

// refused waits until a client that the server refuses says so and,
// unless it retries, exits; it returns how it took the refusal.
func refused(t *testing.T, sc sourceClient, p *testenv.Proc) string {
	t.Helper()
	defer p.Kill()
	var said string
	testenv.Eventually(t, 20*time.Second, func() error {
		if said = sc.refusal.FindString(p.Output()); said != "" {
			return nil
		}
		select {
		case <-p.Done():
			t.Fatalf("%s exited without saying it was refused:\n%s", sc.name, p.Output())
		default:
		}
		return fmt.Errorf("%s has not been refused", sc.name)
	})
	if code := refusalCode.FindString(said); code != "" {
		said = code
	}
	if sc.retries {
		return "retries (" + said + ")"
	}
	select {
	case <-p.Done():
	case <-time.After(testenv.Bound(10 * time.Second)):
		t.Fatalf("%s said %q but goes on", sc.name, said)
	}
	return "exits (" + said + ")"
}

// curlMetadata sets a mount's title with curl through n2's front-end, as
// an operator would for a client that cannot.
func curlMetadata(t *testing.T, ctx context.Context, cc *compatCluster, m *autoradio.Mount, song string) {
	t.Helper()
	u := cc.f2.URL("/admin/metadata?" + url.Values{"mount": {m.Name}, "mode": {"updinfo"}, "song": {song}}.Encode())
	out, err := exec.CommandContext(ctx, "curl", "-sS", "--fail", "-u", m.Username+":"+m.Password, u).CombinedOutput()
	if err != nil {
		t.Fatalf("curl GET /admin/metadata: %v\n%s", err, out)
	}
}

// keep saves a capture that failed a check, for a look at it after the
// test, and returns its path.
func keep(t *testing.T, data []byte) string {
	f, err := os.CreateTemp("", "compat-capture-")
	if err != nil {
		t.Log(err)
		return "nowhere"
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Log(err)
	}
	return f.Name()
}
