package transcode

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// scriptCases cover each codec and option. Their golden files are checked
// with liquidsoap --check.
var scriptCases = []struct {
	name string
	t    autoradio.Transcoding
	edit func(*Params)
}{
	{"mp3-cbr", autoradio.Transcoding{Codec: "mp3", Bitrate: 64}, nil},
	{"mp3-vbr", autoradio.Transcoding{Codec: "mp3", Quality: new(2.4), SampleRate: 48000}, nil},
	{"mp3-mono", autoradio.Transcoding{Codec: "mp3", Bitrate: 32, SampleRate: 22050, Channels: 1}, nil},
	{"mp3-stereo", autoradio.Transcoding{Codec: "mp3", Bitrate: 192, StereoMode: "stereo"}, nil},
	{"vorbis-quality", autoradio.Transcoding{Codec: "vorbis", Quality: new(-0.1), SampleRate: 32000}, nil},
	{"vorbis-cbr-mono", autoradio.Transcoding{Codec: "vorbis", Bitrate: 96, Channels: 1}, nil},
	{"opus", autoradio.Transcoding{Codec: "opus"}, nil},
	{"opus-mono", autoradio.Transcoding{Codec: "opus", Bitrate: 24, SampleRate: 24000, Channels: 1}, nil},
	{"aac", autoradio.Transcoding{Codec: "aac"}, nil},
	{"aac-mono", autoradio.Transcoding{Codec: "aac", Bitrate: 48, SampleRate: 32000, Channels: 1}, nil},
	{"hostile-strings", autoradio.Transcoding{Codec: "mp3", Bitrate: 128}, func(p *Params) {
		p.Username = `us"er\`
		p.Password = "pa#{shutdown()}ss\"\n$(rm -rf /)\x00é"
	}},
	{"ipv6", autoradio.Transcoding{Codec: "vorbis", Quality: new(0.5)}, func(p *Params) {
		p.LocalHost, p.MasterHost, p.Username = "::1", "fd00::12", ""
	}},
}

func testParams(name string, t autoradio.Transcoding) Params {
	t.SourceName = "/live.ogg"
	t.ApplyDefaults()
	return Params{
		Mount: "/" + name, Transcoding: t, Username: "source", Password: "s3cret",
		LocalHost: "127.0.0.11", LocalPort: 8000, MasterHost: "127.0.0.12", MasterPort: 8001,
	}
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range scriptCases {
		t.Run(tc.name, func(t *testing.T) {
			p := testParams(tc.name, tc.t)
			if err := p.Transcoding.Validate(); err != nil {
				t.Fatalf("test case is not a valid transcoding: %v", err)
			}
			if tc.edit != nil {
				tc.edit(&p)
			}
			got, err := Render(p)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".liq.golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("script differs from %s (go test -update):\n%s", golden, got)
			}
		})
	}
}

// TestGoldenScriptsCheck runs liquidsoap --check on every golden file: the
// scripts radiod writes are ones liquidsoap accepts.
func TestGoldenScriptsCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("runs liquidsoap")
	}
	testenv.RequireBinaries(t, "liquidsoap")
	files, _ := filepath.Glob("testdata/*.liq.golden")
	if len(files) != len(scriptCases) {
		t.Fatalf("%d golden files for %d cases", len(files), len(scriptCases))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := Check(ctx, "liquidsoap", f); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCheckReportsErrors: a broken script fails the check with
// liquidsoap's reason.
func TestCheckReportsErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs liquidsoap")
	}
	testenv.RequireBinaries(t, "liquidsoap")
	f := filepath.Join(t.TempDir(), "bad.liq")
	os.WriteFile(f, []byte("output.dummy(input.http(\"http://127.0.0.1:1/x\"))\n"), 0o600)
	ctx := testenv.Context(t, 60*time.Second)
	err := Check(ctx, "liquidsoap", f)
	if err == nil || !strings.Contains(err.Error(), "fallible") {
		t.Fatalf("check of a fallible script: %v, want an error about a fallible source", err)
	}
	if _, ok := err.(*exec.ExitError); ok {
		t.Errorf("the error does not say what liquidsoap said: %v", err)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain":   `"plain"`,
		`a"b\c`:   `"a\"b\\c"`,
		"#{x}":    `("#" ^ "{x}")`,
		"a#b{":    `"a#b{"`,
		"\n\x7fé": `"\x0a\x7f\xc3\xa9"`,
		"":        `""`,
		"##{{#{":  `("##" ^ "{{#" ^ "{")`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRenderRefuses(t *testing.T) {
	for name, edit := range map[string]func(*Params){
		"no password": func(p *Params) { p.Password = "" },
		"no master":   func(p *Params) { p.MasterHost = "" },
		"bad port":    func(p *Params) { p.MasterPort = 0 },
		"opus quality": func(p *Params) {
			p.Transcoding = autoradio.Transcoding{Codec: "opus", Quality: new(5.0), SampleRate: 48000}
		},
		"flac": func(p *Params) { p.Transcoding.Codec = "flac" },
	} {
		p := testParams("x.mp3", autoradio.Transcoding{})
		edit(&p)
		if _, err := Render(p); err == nil || !strings.Contains(err.Error(), "/x.mp3") {
			t.Errorf("%s: Render: %v, want an error naming the mount", name, err)
		}
	}
}

// TestQuoteWithLiquidsoap: liquidsoap reads a quoted string back as the
// very same bytes, with no interpolation.
func TestQuoteWithLiquidsoap(t *testing.T) {
	if testing.Short() {
		t.Skip("runs liquidsoap")
	}
	testenv.RequireBinaries(t, "liquidsoap")
	s := `<pa#{1+1}ss"\#{"x"}'$(id)é>`
	f := filepath.Join(t.TempDir(), "print.liq")
	os.WriteFile(f, []byte("settings.init.allow_root.set(true)\nprint("+Quote(s)+")\n"), 0o600)
	ctx := testenv.Context(t, 60*time.Second)
	// It exits with 1 as it has no output to run, after printing.
	out, _ := exec.CommandContext(ctx, "liquidsoap", f).CombinedOutput()
	if !slices.Contains(strings.Split(string(out), "\n"), s) {
		t.Errorf("liquidsoap printed\n%s\nwant the line %s", out, s)
	}
}

func TestLiquidsoapLineLevel(t *testing.T) {
	for line, want := range map[string]slog.Level{
		"2026/11/24 13:47:01 [output:3] Connecting mount /live-64.mp3 for source@127.0.0.11...": slog.LevelInfo,
		"2026/11/24 13:49:34 [upstream:2] Feeding failed: Avutil.Error(Input/output error)":     slog.LevelWarn,
		"2026/11/24 13:49:34 [main:1] Fatal":                                                    slog.LevelError,
		"2026/11/24 13:47:01 [frame:3] Video frame size set to: 1280x720":                       slog.LevelDebug,
		"2026/11/24 13:47:01 [radio:3] Switch to silence.":                                      slog.LevelInfo,
		"[http @ 0x7f515c006c40] HTTP error 404 File Not Found":                                 slog.LevelDebug,
	} {
		if got := liquidsoapLineLevel(line); got != want {
			t.Errorf("%q: %v, want %v", line, got, want)
		}
	}
}
