package nscluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"autoradio/internal/audiotest"
)

// Heard is what a listener's captures hold, as ffmpeg decodes them.
type Heard struct {
	// Audio is how much audio decoded, over every segment.
	Audio time.Duration
	// Errors are ffmpeg's decoding errors, beyond the one an MP3 stream
	// joined mid-way may have at its start (see audiotest.DecodeJoined).
	Errors []string
	// LongestSilence is the longest run of silence (below -50 dBFS for
	// a fifth of a second or more) in any segment: what a listener on a
	// fallback hears while the source is away.
	LongestSilence time.Duration
}

// Analyze decodes every segment of a listener.
func Analyze(ctx context.Context, segs []*Segment) (Heard, error) {
	var h Heard
	dir, err := os.MkdirTemp("", "nscluster-audio-")
	if err != nil {
		return h, err
	}
	defer os.RemoveAll(dir)
	for i, s := range segs {
		if len(s.Data) == 0 {
			continue
		}
		file := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(file, s.Data, 0o600); err != nil {
			return h, err
		}
		errs, err := decodeErrors(ctx, file)
		if err != nil {
			return h, err
		}
		h.Errors = append(h.Errors, errs...)
		d, err := audiotest.Duration(ctx, file)
		if err != nil {
			return h, fmt.Errorf("segment %d (%d bytes from %s): %w", i, len(s.Data), s.Node, err)
		}
		h.Audio += d
		silence, err := audiotest.LongestSilenceFile(ctx, file)
		if err != nil {
			return h, err
		}
		h.LongestSilence = max(h.LongestSilence, silence)
	}
	return h, nil
}

// joinError is what ffmpeg says, once, of an MP3 capture whose first frame
// points back into a bit reservoir that was never received.
const joinError = "invalid new backstep"

func decodeErrors(ctx context.Context, file string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", file, "-f", "null", "-")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("decoding: ffmpeg: %v: %s", err, stderr.String())
	}
	var errs []string
	joined := false
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line == "" {
			continue
		}
		if !joined && strings.Contains(line, joinError) {
			joined = true
			continue
		}
		errs = append(errs, line)
	}
	return errs, nil
}
