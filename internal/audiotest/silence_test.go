package audiotest

import (
	"os/exec"
	"testing"
	"time"

	"autoradio/internal/testenv"
)

func TestParseSilences(t *testing.T) {
	const ended = `[silencedetect @ 0x55] silence_start: 1.5
[silencedetect @ 0x55] silence_end: 2.25 | silence_duration: 0.75
size=N/A time=00:00:03.00 bitrate=N/A speed= 733x    [silencedetect @ 0x55] silence_start: 2.8
[silencedetect @ 0x55] silence_end: 3.1 | silence_duration: 0.3
`
	const running = `[silencedetect @ 0x55] silence_start: 0.5
[silencedetect @ 0x55] silence_end: 0.9 | silence_duration: 0.4
[silencedetect @ 0x55] silence_start: 4
size=N/A time=00:00:05.00 bitrate=N/A speed= 733x
`
	for _, tc := range []struct {
		name  string
		out   string
		total time.Duration
		want  time.Duration
	}{
		{"none", "size=N/A time=00:00:05.00 bitrate=N/A\n", 5 * time.Second, 0},
		{"ended", ended, 3 * time.Second, 750 * time.Millisecond},
		{"running at the end", running, 5 * time.Second, time.Second},
		{"running from the start", "[silencedetect @ 0x55] silence_start: 0\n", 2 * time.Second, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseSilences(tc.out, tc.total); got != tc.want {
				t.Errorf("parseSilences = %v, want %v", got, tc.want)
			}
		})
	}
}

// A capture of tone, then 2 s of silence that runs to its end, joined
// mid-frame as a listener joins.
func TestLongestSilence(t *testing.T) {
	data := encode(t, "sine=frequency=440:sample_rate=44100:duration=3[s];anullsrc=r=44100:cl=mono:d=2[z];[s][z]concat=n=2:v=0:a=1")
	got, err := LongestSilence(t.Context(), data[1000:])
	if err != nil {
		t.Fatal(err)
	}
	if got < 1800*time.Millisecond || got > 2200*time.Millisecond {
		t.Errorf("LongestSilence = %v, want about 2s", got)
	}
}

// encode is graph, a lavfi filter graph, as 128 kbit/s MP3.
func encode(t *testing.T, graph string) []byte {
	t.Helper()
	testenv.RequireBinaries(t, "ffmpeg")
	out, err := exec.CommandContext(t.Context(), "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", graph,
		"-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3", "pipe:1").Output()
	if err != nil {
		t.Fatalf("encoding %s: %v", graph, err)
	}
	return out
}

// wholeUnits drops what follows an MP3 capture's last whole frame, and
// nothing else.
func TestWholeUnits(t *testing.T) {
	frame := func() []byte {
		f := make([]byte, 417) // 128 kbit/s, 44.1 kHz, no padding
		copy(f, []byte{0xff, 0xfb, 0x90, 0x64})
		return f
	}
	var data []byte
	for range 5 {
		data = append(data, frame()...)
	}
	if got := wholeUnits(data); len(got) != len(data) {
		t.Errorf("whole frames: %d bytes kept of %d", len(got), len(data))
	}
	cut := append(append([]byte{}, data...), frame()[:100]...)
	if got := wholeUnits(cut); len(got) != len(data) {
		t.Errorf("a cut last frame: %d bytes kept, want %d", len(got), len(data))
	}
	junk := []byte("not audio at all")
	if got := wholeUnits(junk); len(got) != len(junk) {
		t.Errorf("junk: %d bytes kept of %d", len(got), len(junk))
	}
}
