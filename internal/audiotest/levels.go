package audiotest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"time"
)

// levelRate is the sample rate Levels decodes at: enough to hear a tone.
const levelRate = 8000

// Levels decodes data (any format ffmpeg knows, from any frame boundary
// for MP3) to mono and returns the RMS level of each window, in dBFS
// (-120 for digital silence).
func Levels(ctx context.Context, data []byte, window time.Duration) ([]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-v", "error",
		"-i", "pipe:0", "-ac", "1", "-ar", strconv.Itoa(levelRate), "-f", "s16le", "pipe:1")
	cmd.Stdin = bytes.NewReader(data)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("levels: ffmpeg: %v: %s", err, stderr.String())
	}
	samples := make([]int16, stdout.Len()/2)
	binary.Read(&stdout, binary.LittleEndian, samples)
	per := int(window.Seconds() * levelRate)
	var levels []float64
	for i := 0; i+per <= len(samples); i += per {
		var sum float64
		for _, s := range samples[i : i+per] {
			v := float64(s) / 32768
			sum += v * v
		}
		levels = append(levels, max(-120, 10*math.Log10(sum/float64(per))))
	}
	return levels, nil
}

// Stream describes the first audio stream of a capture, as ffprobe sees it.
type Stream struct {
	Codec      string `json:"codec_name"`
	SampleRate string `json:"sample_rate"`
	Channels   int    `json:"channels"`
	BitRate    string `json:"bit_rate"`
}

// Probe runs ffprobe -show_streams on data.
func Probe(ctx context.Context, data []byte) (*Stream, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "a:0",
		"-show_streams", "-of", "json", "pipe:0")
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("probe: ffprobe: %v: %s", err, stderr.String())
	}
	var res struct{ Streams []Stream }
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	if len(res.Streams) == 0 {
		return nil, fmt.Errorf("probe: no audio stream")
	}
	return &res.Streams[0], nil
}
