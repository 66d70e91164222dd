package audioframe

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"autoradio/internal/testenv"
)

// TestScanner feeds ffmpeg's streams to a Scanner in pieces of random
// sizes, after some junk, and checks that it finds every frame or audio
// page as a point, and that ffmpeg decodes the stream from a point on
// (after the point's header pages), cleanly.
func TestScanner(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ffmpeg")
	}
	testenv.RequireBinaries(t, "ffmpeg")
	ctx := testenv.Context(t, time.Minute)
	for _, c := range []struct {
		name   string
		format Format
		args   []string
	}{
		{"MP3 with an ID3 tag", FormatMP3, []string{"-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"}},
		{"ADTS", FormatADTS, []string{"-c:a", "aac", "-b:a", "64k", "-f", "adts"}},
		{"Ogg Vorbis", FormatOgg, []string{"-c:a", "libvorbis", "-f", "ogg", "-page_duration", "200000"}},
		{"Ogg Opus", FormatOgg, []string{"-c:a", "libopus", "-f", "ogg", "-page_duration", "200000"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"-nostdin", "-v", "error", "-f", "lavfi", "-i",
				"sine=frequency=440:sample_rate=44100", "-t", "4"}, c.args...)
			out, err := exec.CommandContext(ctx, "ffmpeg", append(args, "-")...).Output()
			if err != nil {
				t.Fatalf("ffmpeg: %v", err)
			}
			junk := []byte("\xff\xe0junk OggS\x00")
			stream := append(append([]byte(nil), junk...), out...)
			var s Scanner
			var points []Point
			for rest := stream; len(rest) > 0; {
				n := min(len(rest), 1+rand.IntN(3000))
				points = append(points, s.Scan(rest[:n])...)
				rest = rest[n:]
			}
			if s.Format() != c.format {
				t.Fatalf("format %v, want %v", s.Format(), c.format)
			}
			if len(points) < 5 {
				t.Fatalf("%d points in %d bytes", len(points), len(stream))
			}
			for i := 1; i < len(points); i++ {
				if points[i].Pos <= points[i-1].Pos || points[i].At < points[i-1].At {
					t.Fatalf("points %d and %d out of order: %+v %+v", i-1, i, points[i-1], points[i])
				}
			}
			if last := points[len(points)-1].At; last < 3*time.Second || last > 4200*time.Millisecond {
				t.Errorf("the last point is at %v of 4 s of audio", last)
			}
			if c.format != FormatOgg {
				marks, err := Timeline(out[points[0].Pos-int64(len(junk)):])
				if err != nil {
					t.Fatal(err)
				}
				// Every frame but the last, whose end is the stream's.
				if len(marks) != len(points)+1 && len(marks) != len(points) {
					t.Errorf("%d points for %d frames", len(points), len(marks))
				}
			}
			pt := points[len(points)/2]
			joined := append(append([]byte(nil), pt.Header...), stream[pt.Pos:]...)
			if c.format == FormatOgg && !bytes.HasPrefix(pt.Header, OggMagic) {
				t.Fatalf("an audio page's point has no header pages: %+v", pt)
			}
			file := filepath.Join(t.TempDir(), "joined")
			if err := os.WriteFile(file, joined, 0o600); err != nil {
				t.Fatal(err)
			}
			msg, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-i", file, "-f", "null", "-").CombinedOutput()
			if err != nil || (len(msg) > 0 && !bytes.Contains(msg, []byte("backstep"))) {
				t.Errorf("the stream from point %+v does not decode: %v %s", pt.Pos, err, msg)
			}
		})
	}
}

func TestOggHeadersChained(t *testing.T) {
	page := func(flags byte, granule int64) []byte {
		p := make([]byte, OggHeaderLen+1+3)
		copy(p, OggMagic)
		p[5] = flags
		for i := range 8 {
			p[6+i] = byte(uint64(granule) >> (8 * i))
		}
		p[26], p[27] = 1, 3
		return p
	}
	var h OggHeaders
	steps := []struct {
		p      []byte
		join   bool
		header int // pages
	}{
		{page(OggBOS, 0), true, 0},
		{page(0, 0), false, 0},
		{page(0, -1), false, 0},
		{page(OggContinued, 0), false, 0},
		{page(0, 100), true, 4},
		{page(OggContinued, 200), false, 4},
		{page(OggBOS, 0), true, 0},
		{page(0, 0), false, 0},
		{page(0, 50), true, 2},
	}
	for i, st := range steps {
		join, header := h.Page(st.p)
		if join != st.join || len(header) != st.header*len(st.p) {
			t.Errorf("page %d: join %v with %d header bytes, want %v with %d pages", i, join, len(header), st.join, st.header)
		}
	}
}
