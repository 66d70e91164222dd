package main

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"autoradio"
)

// mountFlags are the flags that set a mount's fields. Every command applies
// only the flags that were given, so one function serves create and edit.
type mountFlags struct {
	username           string
	relay, fallback    string
	source, codec      string
	stereoMode         string
	bitrate, rate, chs int
	quality            float64
	wait               waitFlags // create only
}

// encodingFlags set the parameters of an existing transcoding.
var encodingFlags = []string{"codec", "bitrate", "quality", "samplerate", "channels", "stereo-mode"}

// mountFieldFlags are all the flags that change a mount.
var mountFieldFlags = append([]string{"username", "relay", "fallback", "source"}, encodingFlags...)

func (f *mountFlags) addUsername(fs *pflag.FlagSet) {
	fs.StringVar(&f.username, "username", "", `source username (default: a random one; "source" for clients that always send it, such as darkice)`)
}

func (f *mountFlags) addRelay(fs *pflag.FlagSet) {
	fs.StringVar(&f.relay, "relay", "", "pull the mount from this upstream http:// URL instead of waiting for a source")
}

func (f *mountFlags) addFallback(fs *pflag.FlagSet) {
	fs.StringVar(&f.fallback, "fallback", "", "mount that listeners move to while this one has no source")
}

func (f *mountFlags) addTranscoding(fs *pflag.FlagSet) {
	fs.StringVar(&f.source, "source", "", "path of the mount to transcode")
	fs.StringVar(&f.codec, "codec", "", "codec: mp3, vorbis, opus or aac (AAC in ADTS, for HLS; default mp3)")
	fs.IntVar(&f.bitrate, "bitrate", 0, "bitrate in kbit/s (default 128, 64 for opus)")
	fs.Float64Var(&f.quality, "quality", 0, "variable-bitrate quality instead of a bitrate: -0.1..1 for vorbis, 0..9 for mp3")
	fs.IntVar(&f.rate, "samplerate", 0, "sample rate in Hz (default 44100, 48000 for opus)")
	fs.IntVar(&f.chs, "channels", 0, "channels: 1 or 2 (default 2)")
	fs.StringVar(&f.stereoMode, "stereo-mode", "", "mp3 only: stereo, joint_stereo or mono (default joint_stereo)")
}

// apply changes m by the flags given in fs; an empty string clears a field.
// Credentials follow the mount's kind: a relay mount has none (nothing
// pushes to it), any other mount gets new ones when it has none. It
// reports whether credentials were generated.
func (f *mountFlags) apply(fs *pflag.FlagSet, m *autoradio.Mount) (newCredentials bool, err error) {
	if fs.Changed("relay") {
		m.RelayURL = f.relay
	}
	if fs.Changed("fallback") {
		m.Fallback = f.fallback
	}
	if err := f.applyTranscoding(fs, m); err != nil {
		return false, err
	}
	username := fs.Lookup("username") != nil && fs.Changed("username")
	if m.IsRelay() {
		if username {
			return false, errors.New("a relay mount has no source credentials: --username goes with mounts that sources push to")
		}
		m.Username, m.Password = "", ""
		return false, nil
	}
	if m.Username != "" && m.Password != "" && !username {
		return false, nil
	}
	user, pass, err := autoradio.NewSourceCredentials()
	if err != nil {
		return false, err
	}
	if m.Password == "" {
		m.Password = pass
	}
	m.Username = user
	if username {
		m.Username = cmp.Or(f.username, user)
	}
	return true, nil
}

func (f *mountFlags) applyTranscoding(fs *pflag.FlagSet, m *autoradio.Mount) error {
	encoding := anyChanged(fs, encodingFlags...)
	if fs.Changed("source") && f.source == "" {
		if encoding {
			return errors.New(`--source "" removes the transcoding: give no encoding flags with it`)
		}
		m.Transcoding = nil
		return nil
	}
	if !encoding && !fs.Changed("source") {
		return nil
	}
	if fs.Changed("bitrate") && f.bitrate == 0 {
		// It would silently become the default.
		return errors.New("--bitrate 0 cannot be stored (0 means unset): give a bitrate in kbit/s, e.g. 64")
	}
	t := m.Transcoding
	if t == nil {
		if !fs.Changed("source") {
			return fmt.Errorf("%s is not a transcoding mount: give --source to make it one", m.Name)
		}
		t = &autoradio.Transcoding{}
	}
	f.applyEncoding(fs, t)
	t.ApplyDefaults()
	m.Transcoding = t
	return nil
}

// applyEncoding sets the given parameters. Parameters that were not given
// but no longer fit (those of another codec, a bitrate when a quality is
// given) are reset, so that ApplyDefaults picks suitable ones.
func (f *mountFlags) applyEncoding(fs *pflag.FlagSet, t *autoradio.Transcoding) {
	if fs.Changed("source") {
		t.SourceName = f.source
	}
	if fs.Changed("codec") && f.codec != t.Codec {
		t.Codec, t.Bitrate, t.Quality, t.SampleRate, t.StereoMode = f.codec, 0, nil, 0, ""
	}
	if fs.Changed("bitrate") {
		t.Bitrate, t.Quality = f.bitrate, nil
	}
	if fs.Changed("quality") {
		q := f.quality
		t.Quality = &q
		if !fs.Changed("bitrate") {
			t.Bitrate = 0
		}
	}
	if fs.Changed("samplerate") {
		t.SampleRate = f.rate
	}
	if fs.Changed("channels") {
		t.Channels = f.chs
		if !fs.Changed("stereo-mode") {
			t.StereoMode = ""
		}
	}
	if fs.Changed("stereo-mode") {
		t.StereoMode = f.stereoMode
	}
}

func anyChanged(fs *pflag.FlagSet, names ...string) bool {
	for _, n := range names {
		if fs.Lookup(n) != nil && fs.Changed(n) {
			return true
		}
	}
	return false
}
