package audiotest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// silenceFilter is what counts as silence: below -50 dBFS for a fifth of
// a second or more. The sources' tone over noise is far louder; Icecast's
// fallback, while the source is away, is digital silence.
const silenceFilter = "silencedetect=noise=-50dB:d=0.2"

// LongestSilence decodes data (MP3 may begin anywhere: ffmpeg skips to
// the first frame) and returns its longest run of silence, as ffmpeg's
// silencedetect finds it: what a listener on a fallback hears while the
// source is away. A silence still running at the end lasts to the end.
func LongestSilence(ctx context.Context, data []byte) (time.Duration, error) {
	return longestSilence(ctx, "pipe:0", bytes.NewReader(data))
}

// LongestSilenceFile is LongestSilence for a file.
func LongestSilenceFile(ctx context.Context, file string) (time.Duration, error) {
	return longestSilence(ctx, file, nil)
}

func longestSilence(ctx context.Context, input string, stdin io.Reader) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-i", input,
		"-af", silenceFilter, "-f", "null", "-")
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("silencedetect: ffmpeg: %v", err)
	}
	total, err := lastTime(string(out))
	if err != nil {
		return 0, fmt.Errorf("silencedetect: %w", err)
	}
	return parseSilences(string(out), total), nil
}

// parseSilences finds the longest silence in silencedetect's output; a
// silence still running at the end lasts until total.
func parseSilences(out string, total time.Duration) time.Duration {
	var longest time.Duration
	open := time.Duration(-1)
	for _, line := range strings.Split(out, "\n") {
		if v, ok := secondsAfter(line, "silence_start: "); ok {
			open = v
		}
		if v, ok := secondsAfter(line, "silence_duration: "); ok {
			longest = max(longest, v)
			open = -1
		}
	}
	if open >= 0 {
		longest = max(longest, total-open)
	}
	return longest
}

// secondsAfter reads the number of seconds that follows key in line.
func secondsAfter(line, key string) (time.Duration, bool) {
	i := strings.Index(line, key)
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(line[i+len(key):])
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(v * float64(time.Second)), true
}
