package icecast

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"autoradio"
)

// silence describes one codec's silence: the file Icecast plays itself,
// and the file radiod feeds the live silence mounts of that codec from.
// Each comes with the ffmpeg lavfi input and encoder arguments of its
// file.
type silence struct {
	name        string // web-root path of the file Icecast plays
	input       string
	args        []string
	feed        string // web-root path of the file radiod feeds from
	feedInput   string
	feedArgs    []string
	contentType string
}

// Silence fallbacks, by codec. Their names start with "/_", a prefix no
// mount may use, so they never clash with a real mount.
//
// A mount without a fallback of its own falls back to a live silence
// mount of its own (SilenceMount), which radiod feeds in real time
// (feedSilence), and that mount to its codec's silence file, which
// Icecast plays while radiod does not feed it. fallback-override moves
// listeners back up the chain.
//
// Each mount needs its own live silence mount: when a source comes to a
// mount with fallback-override, Icecast 2.4 (source_init) moves every
// listener of the source it finds down the mount's fallback chain to the
// mount. A silence mount shared by several mounts would hand the
// listeners of all of them to the first whose source comes back (every
// mount is without a source while the master changes), and an empty
// mount in between does not help: the search goes on through mounts
// without a source. Only while a feed is missing do the mounts of its
// codec share the file, and with it their listeners.
//
// Icecast 2.4.4 plays a fallback file as a hidden source of its own that
// reads about 16 KB every 200 ms (~75 KB/s measured, whatever the format),
// wrapping at the end of the file. A listener on the fallback therefore
// receives audio faster than real time, and its buffers (the player's,
// then Icecast's queue, which drops it when full) fill. So the files use
// the highest bitrate their encoder pads silence to, which brings the
// speed close to real time: Ogg Vorbis 480k ~1.25x, Ogg Opus 510k CBR
// ~1.15x, MP3 320k ~1.8x, AAC ~2.8x (the AAC encoder pads nothing, so it
// encodes white noise at -70 dBFS instead of digital silence). A 32k MP3
// would run ~18x. Without ID3 and Xing headers, each wrap is clean.
//
// The fed files are paced by their own timeline, so they use low
// bitrates instead: a listener that reads a mount at its own bitrate
// keeps up with the silence that stands in for it.
var silences = map[string]silence{
	"vorbis": {"/_silence.ogg", anullsrc(44100),
		[]string{"-c:a", "libvorbis", "-b:a", "480k", "-minrate", "480k", "-maxrate", "480k", "-f", "ogg"},
		"/_silence-feed.ogg", anullsrc(44100),
		[]string{"-c:a", "libvorbis", "-q:a", "0", "-f", "ogg"}, "application/ogg"},
	"opus": {"/_silence.opus", anullsrc(48000),
		[]string{"-c:a", "libopus", "-vbr", "off", "-b:a", "510k", "-f", "ogg"},
		"/_silence-feed.opus", anullsrc(48000),
		[]string{"-c:a", "libopus", "-b:a", "16k", "-f", "ogg"}, "application/ogg"},
	"mp3": {"/_silence.mp3", anullsrc(44100),
		[]string{"-c:a", "libmp3lame", "-b:a", "320k", "-id3v2_version", "0", "-write_xing", "0", "-f", "mp3"},
		"/_silence-feed.mp3", anullsrc(44100),
		[]string{"-c:a", "libmp3lame", "-b:a", "32k", "-id3v2_version", "0", "-write_xing", "0", "-f", "mp3"}, "audio/mpeg"},
	"aac": {"/_silence.aac", "anoisesrc=color=white:amplitude=0.0003:sample_rate=44100,aformat=channel_layouts=stereo",
		[]string{"-c:a", "aac", "-b:a", "320k", "-f", "adts"},
		"/_silence-feed.aac", anullsrc(44100),
		[]string{"-c:a", "aac", "-b:a", "32k", "-f", "adts"}, "audio/aac"},
}

// silenceSeconds is the length of each silence file Icecast plays, and
// feedSeconds of each file radiod feeds.
const (
	silenceSeconds = "5"
	feedSeconds    = "30"
)

func anullsrc(rate int) string {
	return fmt.Sprintf("anullsrc=channel_layout=stereo:sample_rate=%d", rate)
}

// liveSilencePrefix starts the name of every live silence mount; the
// name of the mount it stands in for follows.
const liveSilencePrefix = "/_silence-live"

// SilenceMount returns the live silence mount that a node uses as the
// fallback of mount m when m has none of its own (see silences): the
// mount's name under liveSilencePrefix, extension kept. Its silence is
// m's codec, which comes from the transcoding parameters when m is
// transcoded, else from the path's extension: .ogg/.oga Ogg Vorbis,
// .opus Ogg Opus, .aac ADTS AAC, anything else (.mp3, no extension) MP3,
// the most common format of web radio. A wrong guess: Icecast refuses to move listeners between
// Ogg and non-Ogg streams, so they are dropped as without a fallback;
// between two non-Ogg formats (AAC in an extensionless mount) they get a
// few seconds of audio their decoder may reject.
func SilenceMount(m *autoradio.Mount) string {
	return liveSilencePrefix + m.Name
}

func silenceCodec(m *autoradio.Mount) string {
	if m.Transcoding != nil && silences[m.Transcoding.Codec].name != "" {
		return m.Transcoding.Codec
	}
	switch strings.ToLower(path.Ext(m.Name)) {
	case ".ogg", ".oga":
		return "vorbis"
	case ".opus":
		return "opus"
	case ".aac":
		return "aac"
	}
	return "mp3"
}

// EnsureSilenceFiles writes every silence file, played and fed, into dir
// (a web root) with ffmpeg ($PATH), skipping those that already exist.
// Each file is written to a temporary name and renamed, so a crash never
// leaves half a file.
func EnsureSilenceFiles(ctx context.Context, dir string) error {
	for _, s := range silences {
		for _, f := range []silenceFile{
			{s.name, s.input, silenceSeconds, s.args},
			{s.feed, s.feedInput, feedSeconds, s.feedArgs},
		} {
			dst := filepath.Join(dir, filepath.FromSlash(f.name))
			if _, err := os.Stat(dst); err == nil {
				continue
			}
			if err := encodeSilence(ctx, dst, f); err != nil {
				return fmt.Errorf("icecast: silence file %s: %w", dst, err)
			}
		}
	}
	return nil
}

// silenceFile is how to encode one silence file.
type silenceFile struct {
	name, input, seconds string
	args                 []string
}

func encodeSilence(ctx context.Context, dst string, s silenceFile) error {
	tmp := dst + ".tmp"
	args := []string{"-nostdin", "-v", "error", "-y", "-f", "lavfi",
		"-i", s.input, "-t", s.seconds}
	args = append(append(args, s.args...), tmp)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ffmpeg: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}
