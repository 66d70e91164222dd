package audioframe

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"autoradio/internal/testenv"
)

func TestMP3FrameLen(t *testing.T) {
	for _, c := range []struct {
		name string
		h    [4]byte
		want int
	}{
		{"MPEG-1 128 kbit/s 44.1 kHz", [4]byte{0xFF, 0xFB, 0x90, 0x00}, 417},
		{"with padding", [4]byte{0xFF, 0xFB, 0x92, 0x00}, 418},
		{"MPEG-1 320 kbit/s 32 kHz", [4]byte{0xFF, 0xFB, 0xE8, 0x00}, 1440},
		{"MPEG-2 64 kbit/s 22.05 kHz", [4]byte{0xFF, 0xF3, 0x80, 0x00}, 208},
		{"MPEG-2.5 8 kbit/s 8 kHz", [4]byte{0xFF, 0xE3, 0x18, 0x00}, 72},
		{"no sync", [4]byte{0xFE, 0xFB, 0x90, 0x00}, 0},
		{"layer II", [4]byte{0xFF, 0xFD, 0x90, 0x00}, 0},
		{"bad bit rate", [4]byte{0xFF, 0xFB, 0xF0, 0x00}, 0},
		{"bad sample rate", [4]byte{0xFF, 0xFB, 0x9C, 0x00}, 0},
	} {
		if got := MP3Len(c.h); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestADTSFrameLen(t *testing.T) {
	for _, c := range []struct {
		name string
		h    []byte
		want int
	}{
		{"AAC LC 44.1 kHz stereo", []byte{0xFF, 0xF1, 0x50, 0x80, 0x2E, 0x7F, 0xFC}, 371},
		{"with CRC", []byte{0xFF, 0xF0, 0x50, 0x80, 0x2E, 0x7F, 0xFC}, 371},
		{"MPEG-2 ID, HE-AAC 24 kHz", []byte{0xFF, 0xF9, 0x58, 0x80, 0x2E, 0x7F, 0xFC}, 371},
		{"longest frame", []byte{0xFF, 0xF1, 0x50, 0x83, 0xFF, 0xFF, 0xFC}, 8191},
		{"one byte of audio", []byte{0xFF, 0xF1, 0x50, 0x80, 0x01, 0x1F, 0xFC}, 8},
		{"header only", []byte{0xFF, 0xF1, 0x50, 0x80, 0x00, 0xFF, 0xFC}, 0},
		{"CRC only", []byte{0xFF, 0xF0, 0x50, 0x80, 0x01, 0x3F, 0xFC}, 0},
		{"no sync", []byte{0xFF, 0xE1, 0x50, 0x80, 0x2E, 0x7F, 0xFC}, 0},
		{"MP3 header", []byte{0xFF, 0xFB, 0x90, 0x00, 0x2E, 0x7F, 0xFC}, 0},
		{"reserved sampling frequency", []byte{0xFF, 0xF1, 0x74, 0x80, 0x2E, 0x7F, 0xFC}, 0},
		{"explicit sampling frequency", []byte{0xFF, 0xF1, 0x7C, 0x80, 0x2E, 0x7F, 0xFC}, 0},
		{"short", []byte{0xFF, 0xF1, 0x50, 0x80, 0x2E, 0x7F}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ADTSLen(c.h); got != c.want {
				t.Errorf("ADTSLen(% x) = %d, want %d", c.h, got, c.want)
			}
		})
	}
}

// TestTimeline encodes a few seconds of audio in each format with ffmpeg
// and checks that the timeline ends at their duration, within the
// encoder's priming and last frame.
func TestTimeline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ffmpeg")
	}
	testenv.RequireBinaries(t, "ffmpeg")
	ctx := testenv.Context(t, time.Minute)
	const seconds = 3
	for _, c := range []struct {
		name string
		args []string
	}{
		{"MP3 MPEG-1", []string{"-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3"}},
		{"MP3 MPEG-2", []string{"-ar", "22050", "-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3"}},
		{"ADTS", []string{"-c:a", "aac", "-b:a", "32k", "-f", "adts"}},
		{"Ogg Vorbis", []string{"-c:a", "libvorbis", "-f", "ogg"}},
		{"Ogg Opus", []string{"-c:a", "libopus", "-f", "ogg"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"-nostdin", "-v", "error", "-f", "lavfi", "-i",
				"sine=frequency=440:sample_rate=44100", "-t", strconv.Itoa(seconds), "-id3v2_version", "0"}, c.args...)
			out, err := exec.CommandContext(ctx, "ffmpeg", append(args, "-")...).Output()
			if err != nil {
				t.Fatalf("ffmpeg: %v", err)
			}
			marks, err := Timeline(out)
			if err != nil {
				t.Fatal(err)
			}
			last := marks[len(marks)-1]
			if last.End != len(out) {
				t.Errorf("timeline ends at byte %d of %d", last.End, len(out))
			}
			if d := last.At - seconds*time.Second; d < -10*time.Millisecond || d > 150*time.Millisecond {
				t.Errorf("timeline of %d bytes plays for %v, want %ds", len(out), last.At, seconds)
			}
			for i := 1; i < len(marks); i++ {
				if marks[i].At < marks[i-1].At || marks[i].End <= marks[i-1].End {
					t.Fatalf("marks %d and %d out of order: %+v %+v", i-1, i, marks[i-1], marks[i])
				}
			}
			if strings.HasPrefix(c.name, "Ogg") {
				chained, err := Timeline(append(append([]byte(nil), out...), out...))
				if err != nil {
					t.Fatal(err)
				}
				if got := chained[len(chained)-1].At; got != 2*last.At {
					t.Errorf("two chained links play for %v, want %v", got, 2*last.At)
				}
			}
			if _, err := Timeline(append([]byte("junk"), out...)); err == nil {
				t.Error("a timeline of junk and audio did not fail")
			}
			if _, err := Timeline(out[:len(out)-1]); err == nil {
				t.Error("a timeline of a cut stream did not fail")
			}
		})
	}
}
