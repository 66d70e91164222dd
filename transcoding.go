package autoradio

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Codecs the transcoder can produce.
const (
	CodecMP3    = "mp3"
	CodecVorbis = "vorbis"
	CodecOpus   = "opus"
	// CodecAAC is AAC-LC in ADTS frames, by liquidsoap's ffmpeg encoder:
	// an Ogg source's MP3-or-AAC variant for HLS and Safari.
	CodecAAC = "aac"
)

// Stereo modes for the mp3 encoder.
const (
	StereoModeStereo      = "stereo"
	StereoModeJointStereo = "joint_stereo"
	StereoModeMono        = "mono"
)

// Transcoding describes how a mount is produced by re-encoding another one.
// Zero numeric fields (and a nil Quality) mean "not set"; ApplyDefaults
// fills them in.
type Transcoding struct {
	// SourceName is the path of the mount that is re-encoded.
	SourceName string `json:"source_name" yaml:"source_name"`
	// Codec is one of "mp3", "vorbis", "opus" and "aac".
	Codec string `json:"codec" yaml:"codec"`
	// Bitrate in kbit/s, for constant-bitrate encoding. Exclusive with Quality.
	Bitrate int `json:"bitrate,omitempty" yaml:"bitrate,omitempty"`
	// Quality for variable-bitrate encoding: -0.1..1 for vorbis, 0..9 for
	// mp3 (0 is best); not supported for opus and aac. Exclusive with
	// Bitrate.
	// A pointer, because 0 is a quality: nil means none.
	Quality *float64 `json:"quality,omitempty" yaml:"quality,omitempty"`
	// SampleRate in Hz.
	SampleRate int `json:"samplerate,omitempty" yaml:"samplerate,omitempty"`
	// Channels is 1 or 2.
	Channels int `json:"channels,omitempty" yaml:"channels,omitempty"`
	// StereoMode is one of "stereo", "joint_stereo" and "mono" (mp3 only).
	StereoMode string `json:"stereo_mode,omitempty" yaml:"stereo_mode,omitempty"`
}

var (
	codecs        = []string{CodecMP3, CodecVorbis, CodecOpus, CodecAAC}
	stereoModes   = []string{StereoModeStereo, StereoModeJointStereo, StereoModeMono}
	mp3Bitrates   = []int{8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 192, 224, 256, 320}
	mp3Rates      = []int{8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000}
	opusRates     = []int{8000, 12000, 16000, 24000, 48000}
	bitrateLimits = map[string][2]int{CodecVorbis: {32, 500}, CodecOpus: {6, 510}, CodecAAC: {16, 320}}
)

// ApplyDefaults fills in unset parameters with values that suit a typical
// web radio stream: 128 kbit/s mp3 at 44.1 kHz stereo (48 kHz for opus; 64
// kbit/s for opus, 96 for aac).
func (t *Transcoding) ApplyDefaults() {
	if t.Codec == "" {
		t.Codec = CodecMP3
	}
	if t.Bitrate == 0 && t.Quality == nil {
		t.Bitrate = 128
		switch t.Codec {
		case CodecOpus:
			t.Bitrate = 64
		case CodecAAC:
			t.Bitrate = 96
		}
	}
	if t.SampleRate == 0 {
		t.SampleRate = 44100
		if t.Codec == CodecOpus {
			t.SampleRate = 48000
		}
	}
	if t.Channels == 0 {
		t.Channels = 2
		if t.StereoMode == StereoModeMono {
			t.Channels = 1
		}
	}
	if t.StereoMode == "" && t.Codec == CodecMP3 {
		t.StereoMode = StereoModeJointStereo
		if t.Channels == 1 {
			t.StereoMode = StereoModeMono
		}
	}
}

// Validate checks the encoding parameters against what liquidsoap's encoders
// accept, with a message naming the offending value.
func (t *Transcoding) Validate() error {
	if err := ValidateMountPath(t.SourceName); err != nil {
		return fmt.Errorf("transcoding source: %w", err)
	}
	if !slices.Contains(codecs, t.Codec) {
		return fmt.Errorf("unknown codec %q (use %s)", t.Codec, strings.Join(codecs, ", "))
	}
	if err := t.validateRate(); err != nil {
		return err
	}
	if t.SampleRate != 0 {
		rates := mp3Rates
		if t.Codec == CodecOpus {
			rates = opusRates
		}
		if !slices.Contains(rates, t.SampleRate) {
			return fmt.Errorf("samplerate %d Hz is not supported by %s (use one of %s)", t.SampleRate, t.Codec, joinInts(rates))
		}
	}
	if t.Channels != 0 && t.Channels != 1 && t.Channels != 2 {
		return fmt.Errorf("channels must be 1 or 2, not %d", t.Channels)
	}
	if t.StereoMode != "" {
		if !slices.Contains(stereoModes, t.StereoMode) {
			return fmt.Errorf("unknown stereo mode %q (use %s)", t.StereoMode, strings.Join(stereoModes, ", "))
		}
		if t.Codec != CodecMP3 {
			return fmt.Errorf("stereo mode applies to mp3 only, not %s", t.Codec)
		}
		if t.Channels == 1 && t.StereoMode != StereoModeMono {
			return fmt.Errorf("stereo mode %q needs 2 channels", t.StereoMode)
		}
	}
	return nil
}

func (t *Transcoding) validateRate() error {
	if t.Bitrate != 0 && t.Quality != nil {
		return errors.New("set either a bitrate or a quality, not both")
	}
	if t.Bitrate < 0 {
		return fmt.Errorf("bitrate must be positive, not %d", t.Bitrate)
	}
	if t.Bitrate > 0 {
		if t.Codec == CodecMP3 {
			if !slices.Contains(mp3Bitrates, t.Bitrate) {
				return fmt.Errorf("bitrate %d kbit/s is not an mp3 bitrate (use one of %s)", t.Bitrate, joinInts(mp3Bitrates))
			}
			return nil
		}
		lim := bitrateLimits[t.Codec]
		if t.Bitrate < lim[0] || t.Bitrate > lim[1] {
			return fmt.Errorf("bitrate %d kbit/s is out of range for %s (%d to %d)", t.Bitrate, t.Codec, lim[0], lim[1])
		}
	}
	if t.Quality != nil {
		q := *t.Quality
		switch t.Codec {
		case CodecVorbis:
			if q < -0.1 || q > 1 {
				return fmt.Errorf("vorbis quality %g is out of range (-0.1 to 1)", q)
			}
		case CodecMP3:
			if q < 0 || q > 9 {
				return fmt.Errorf("mp3 quality %g is out of range (0 to 9)", q)
			}
		default:
			return fmt.Errorf("quality is not supported for %s: set a bitrate", t.Codec)
		}
	}
	if t.Bitrate == 0 && t.Quality == nil {
		return errors.New("set a bitrate or a quality")
	}
	return nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
