package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// player is a real player, as the suite runs it: it plays a URL for
// about 5 s into a file, and exits by itself.
type player struct {
	name string
	// command plays url into out; playlist says that url is a playlist,
	// for a player that must be told.
	command func(t *testing.T, dir, url, out string, playlist bool) *exec.Cmd
	// pcm are ffmpeg's input options for out, when it has no header.
	pcm []string
	// playlists: the player opens .m3u and .pls (FIELD-NOTES); for one
	// that does not, the suite records what it does.
	playlists bool
	// title is how the player prints an ICY title (%s: the title, as a
	// regular expression); empty for a player that does not ask for one,
	// and noTitle says so.
	title   string
	noTitle string
}

// playSeconds is how long each player plays.
const playSeconds = 5

var players = []player{
	{name: "mpv", playlists: true, title: `icy-title: %s`, command: func(_ *testing.T, _, url, out string, _ bool) *exec.Cmd {
		return exec.Command("mpv", "--no-config", "--no-video", "--ao=pcm", "--ao-pcm-file="+out,
			"--length="+strconv.Itoa(playSeconds), url)
	}},
	{name: "mpg123", playlists: true, title: `ICY-META: StreamTitle='%s';`, command: func(_ *testing.T, _, url, out string, playlist bool) *exec.Cmd {
		args := []string{"-v", "-w", out, "-n", strconv.Itoa(playSeconds * 44100 / 1152)}
		if playlist {
			return exec.Command("mpg123", append(args, "-@", url)...)
		}
		return exec.Command("mpg123", append(args, url)...)
	}},
	{name: "VLC 3.0 (cvlc, as nobody)", playlists: true, command: cvlc,
		noTitle: "n/a (VLC 3.0's HTTP access does not ask for Icy metadata)"},
	{name: "GStreamer playbin", title: `title: %s`, pcm: []string{"-f", "s16le", "-ar", "44100", "-ac", "2"},
		command: func(_ *testing.T, _, url, out string, _ bool) *exec.Cmd {
			// playbin plays on until stopped: timeout's SIGINT makes
			// gst-launch -e end the stream (its status then depends on
			// how fast it did: timeout's 124 says it was stopped in time).
			// --foreground keeps it in the test's process group.
			script := `timeout --foreground -s INT "$1" gst-launch-1.0 -e -t "${@:2}"; rc=$?; [ $rc = 124 ] || exit $rc`
			return exec.Command("bash", "-c", script, "playbin", strconv.Itoa(playSeconds+2),
				"playbin", "uri="+url, "video-sink=fakesink",
				"audio-sink=audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=44100,channels=2 ! filesink location="+out)
		}},
	{name: "ffmpeg", title: `StreamTitle\s*: %s`, command: func(_ *testing.T, _, url, out string, _ bool) *exec.Cmd {
		return exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-i", url, "-t", strconv.Itoa(playSeconds), "-f", "wav", out)
	}},
}

// cvlc runs VLC, which refuses to run as root, as nobody, with a home of
// its own.
func cvlc(t *testing.T, dir, url, out string, _ bool) *exec.Cmd {
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	home, err := os.MkdirTemp(dir, "home-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	return exec.Command("setpriv", "--reuid="+nobody.Uid, "--regid="+nobody.Gid, "--clear-groups",
		"env", "HOME="+home, "cvlc", "--no-interact", "--play-and-exit", "--run-time="+strconv.Itoa(playSeconds),
		"--aout=afile", "--audiofile-file="+out, url)
}

// knownIssues are what the suite observed fail, as player and node: the
// table says so, and the test does not fail for it, so that the suite
// stays green while it is being fixed. The one below does not show in
// every run; when it does not, the log says so.
var knownIssues = map[string]string{
	// When a mount's source comes a while after the mount was created (a
	// minute here; the usual order in production), the relay node's
	// Icecast often serves it with no icy-* header but Icy-MetaInt (the
	// master sends icy-pub and icy-metadata too), and so, often, does its
	// front-end: the relay first got the master's silence fallback for the
	// mount, whose answer has no icy-* header, and kept its headers when
	// the master moved it to the source. mpv (through libavformat) shows
	// no Icy title on a response with no other icy-* header: the same with
	// n2's Icecast directly. A mount fed at once has the headers on both
	// nodes.
	"mpv n2": "no: known issue (the relay node sends no icy-* header but Icy-MetaInt)",
}

// playerColumns are the columns of the players' table.
var playerColumns = []string{"player", "mount URL (302)", ".m3u", ".pls",
	"ICY title, late listener, master node", "ICY title, late listener, relay node", "decodable audio"}

// playerRun is one run of a player and what it left.
type playerRun struct {
	output string
	err    error
	audio  time.Duration
	volume float64
}

// checkPlayer plays the mount through the front-ends, the ways a player
// is given it, all at once, and fills in the player's row.
func checkPlayer(t *testing.T, ctx context.Context, cc *compatCluster, p player, mount, title string, row *compatRow) {
	dir, err := os.MkdirTemp("", "compat-player-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777) // VLC writes its file as nobody
	urls := map[string]string{
		"mount URL (302)":                       cc.f1.URL(mount),
		".m3u":                                  cc.f1.URL(mount + ".m3u"),
		".pls":                                  cc.f1.URL(mount + ".pls"),
		"ICY title, late listener, master node": cc.f1.URL("/_stream" + mount),
		"ICY title, late listener, relay node":  cc.f2.URL("/_stream" + mount),
	}
	procs, outs := map[string]*testenv.Proc{}, map[string]string{}
	i := 0
	for col, url := range urls {
		i++
		outs[col] = filepath.Join(dir, fmt.Sprintf("out%d", i))
		procs[col] = testenv.StartCmd(t, p.command(t, dir, url, outs[col], col == ".m3u" || col == ".pls"))
	}
	runs := map[string]*playerRun{}
	for col, proc := range procs {
		runs[col] = played(ctx, proc, outs[col], p.pcm)
	}

	row.check("mount URL (302)", func() string {
		if err := runs["mount URL (302)"].err; err != nil {
			t.Fatalf("%s %s: %v\n%s", p.name, urls["mount URL (302)"], err, runs["mount URL (302)"].output)
		}
		return "yes"
	})
	row.check("decodable audio", func() string {
		r := runs["mount URL (302)"]
		return fmt.Sprintf("yes (%.1f s, %.0f dB)", r.audio.Seconds(), r.volume)
	})
	for _, col := range []string{".m3u", ".pls"} {
		row.check(col, func() string {
			switch err := runs[col].err; {
			case err == nil:
				return "yes"
			case p.playlists:
				t.Errorf("%s %s: %v\n%s", p.name, urls[col], err, runs[col].output)
				return "**FAIL**"
			default:
				return "n/a (does not open playlists)"
			}
		})
	}
	for col, node := range map[string]string{"ICY title, late listener, master node": "n1", "ICY title, late listener, relay node": "n2"} {
		row.check(col, func() string {
			if err := runs[col].err; err != nil {
				t.Errorf("%s %s: %v\n%s", p.name, urls[col], err, runs[col].output)
				return "**FAIL**"
			}
			if p.title == "" {
				return p.noTitle
			}
			re := regexp.MustCompile(fmt.Sprintf(p.title, regexp.QuoteMeta(title)))
			shown := re.MatchString(runs[col].output)
			known, isKnown := knownIssues[p.name+" "+node]
			switch {
			case shown && isKnown:
				t.Logf("%s on %s showed the title this time; the known issue, when it shows: %s", p.name, node, known)
				return "yes"
			case shown:
				return "yes"
			case isKnown:
				t.Logf("%s on %s: %s", p.name, node, known)
				return known
			}
			t.Errorf("%s on %s printed no title %q:\n%s", p.name, node, title, runs[col].output)
			return "**FAIL**"
		})
	}
}

// played waits (bounded) for a player to exit and measures the audio it
// wrote: at least 2 s of the test tone, not silence, decoding cleanly.
func played(ctx context.Context, p *testenv.Proc, out string, pcm []string) *playerRun {
	r := &playerRun{}
	bound := testenv.Bound((playSeconds + 15) * time.Second)
	select {
	case <-p.Done():
		r.err = p.Err()
	case <-time.After(bound):
		p.Kill()
		r.err = fmt.Errorf("still playing after %v", bound)
	}
	r.output = p.Output()
	if r.err != nil {
		return r
	}
	r.audio, r.volume, r.err = audiotest.Measure(ctx, out, pcm...)
	switch {
	case r.err != nil:
	case r.audio < 2*time.Second:
		r.err = fmt.Errorf("%v of audio, want at least 2s", r.audio)
	case r.volume < -60:
		r.err = fmt.Errorf("mean volume %.1f dB: silence, not the tone", r.volume)
	}
	return r
}
