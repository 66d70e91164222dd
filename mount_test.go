package autoradio

import (
	"reflect"
	"strings"
	"testing"
)

func TestValidateMountPath(t *testing.T) {
	long200 := "/" + strings.Repeat("a", 195) + ".ogg"
	long201 := "/" + strings.Repeat("a", 196) + ".ogg"
	for _, tc := range []struct {
		path string
		err  string // a substring of the error; "" when valid
	}{
		{"/live.ogg", ""},
		{"/a/b/c.mp3", ""},
		{"/A-Z_09.opus", ""},
		{"/stream", ""},
		{"/x.m3u8", "must not end in .m3u8"},
		{"/.hidden", ""},
		{"/a.b.c", ""},
		{long200, ""},
		{"", "empty"},
		{"/", "has no name"},
		{"live.ogg", "must start with /"},
		{long201, "201 bytes long, the limit is 200"},
		{"/../x", `has a ".." segment`},
		{"/a/../b", `has a ".." segment`},
		{"/a/./b", `has a "." segment`},
		{"//x", "empty segment"},
		{"/a//b", "empty segment"},
		{"/_stream/x", "must not start with /_"},
		{"/_status.json", "must not start with /_"},
		{"/x.m3u", "must not end in .m3u or .pls"},
		{"/x.pls", "must not end in .m3u or .pls"},
		{"/live/", "must not end with /"},
		{"/é.ogg", `character 'é' at byte 1 is not allowed`},
		{"/a\xff", `character '�' at byte 2 is not allowed`},
		{"/a b", `character ' ' at byte 2 is not allowed`},
		{"/a?b", `character '?' at byte 2`},
		{"/a%20b", `character '%' at byte 2`},
		{"/a\x00", `at byte 2`},
	} {
		err := ValidateMountPath(tc.path)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ValidateMountPath(%q) = %v, want valid", tc.path, err)
		case tc.err != "" && err == nil:
			t.Errorf("ValidateMountPath(%q) accepted, want an error with %q", tc.path, tc.err)
		case tc.err != "" && !strings.Contains(err.Error(), tc.err):
			t.Errorf("ValidateMountPath(%q) = %q, want it to contain %q", tc.path, err, tc.err)
		}
	}
	if len(long200) != 200 || len(long201) != 201 {
		t.Fatalf("test paths are %d and %d bytes", len(long200), len(long201))
	}
}

func TestMountValidate(t *testing.T) {
	mp3 := func(source string) *Transcoding {
		tr := &Transcoding{SourceName: source}
		tr.ApplyDefaults()
		return tr
	}
	for _, tc := range []struct {
		name string
		m    Mount
		err  string
	}{
		{"plain", Mount{Name: "/a", Username: "u", Password: "p"}, ""},
		{"relay", Mount{Name: "/a", RelayURL: "http://up.example.org:8000/s.mp3"}, ""},
		{"relay without port", Mount{Name: "/a", RelayURL: "http://up.example.org/s"}, ""},
		{"fallback", Mount{Name: "/a", Fallback: "/b"}, ""},
		{"transcoding", Mount{Name: "/a", Transcoding: mp3("/b")}, ""},
		{"bad path", Mount{Name: "a"}, "must start with /"},
		{"https relay", Mount{Name: "/a", RelayURL: "https://up/s"}, "scheme must be http"},
		{"ftp relay", Mount{Name: "/a", RelayURL: "ftp://up/s"}, "scheme must be http"},
		{"relay without host", Mount{Name: "/a", RelayURL: "http:///s"}, "has no host"},
		{"relay without path", Mount{Name: "/a", RelayURL: "http://up:8000"}, "has no mount path"},
		{"relay port 0", Mount{Name: "/a", RelayURL: "http://up:0/s"}, "bad port"},
		{"relay port too big", Mount{Name: "/a", RelayURL: "http://up:70000/s"}, "bad port"},
		{"relay garbage", Mount{Name: "/a", RelayURL: "http://[::1/s"}, "relay URL"},
		{"own fallback", Mount{Name: "/a", Fallback: "/a"}, "cannot be its own fallback"},
		{"bad fallback", Mount{Name: "/a", Fallback: "/_x"}, "fallback: mount path"},
		{"relay and transcoding", Mount{Name: "/a", RelayURL: "http://up/s", Transcoding: mp3("/b")}, "both relay"},
		{"transcodes itself", Mount{Name: "/a", Transcoding: mp3("/a")}, "cannot transcode itself"},
		{"username alone", Mount{Name: "/a", Username: "u"}, "without a password"},
		{"password alone", Mount{Name: "/a", Password: "p"}, "without a username"},
		{"username with colon", Mount{Name: "/a", Username: "u:v", Password: "p"}, "colon"},
		{"username with tab", Mount{Name: "/a", Username: "u\tv", Password: "p"}, "control character"},
		{"password with newline", Mount{Name: "/a", Username: "u", Password: "p\nq"}, "control character"},
		{"password not UTF-8", Mount{Name: "/a", Username: "u", Password: "p\xff"}, "UTF-8"},
		{"password with colon and space", Mount{Name: "/a", Username: "u", Password: "p: q"}, ""},
		{"long username", Mount{Name: "/a", Username: strings.Repeat("u", MaxUsernameLen+1), Password: "p"}, "limit is 64"},
		{"long password", Mount{Name: "/a", Username: "u", Password: strings.Repeat("p", MaxPasswordLen+1)}, "limit is 255"},
		{"longest credentials", Mount{Name: "/a", Username: strings.Repeat("u", MaxUsernameLen), Password: strings.Repeat("p", MaxPasswordLen)}, ""},
		{"long relay URL", Mount{Name: "/a", RelayURL: "http://up/" + strings.Repeat("s", MaxRelayURLLen)}, "limit is 1024"},
		{"bad transcoding", Mount{Name: "/a", Transcoding: &Transcoding{SourceName: "/b", Codec: "flac", Bitrate: 64}}, `unknown codec "flac"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate()
			if tc.err == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want valid", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Validate() = %v, want an error with %q", err, tc.err)
			}
		})
	}
}

func TestTranscodingValidate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		t        Transcoding
		defaults bool // apply defaults before validating
		err      string
	}{
		{"mp3 defaults (bitrate 0 before)", Transcoding{Codec: CodecMP3}, true, ""},
		{"no codec gets mp3", Transcoding{}, true, ""},
		{"vorbis quality", Transcoding{Codec: CodecVorbis, Quality: new(0.4)}, true, ""},
		{"vorbis lowest quality", Transcoding{Codec: CodecVorbis, Quality: new(-0.1)}, true, ""},
		{"mp3 vbr", Transcoding{Codec: CodecMP3, Quality: new(5.0)}, true, ""},
		{"opus defaults", Transcoding{Codec: CodecOpus}, true, ""},
		{"mp3 mono", Transcoding{Codec: CodecMP3, Bitrate: 64, Channels: 1}, true, ""},
		{"unknown codec", Transcoding{Codec: "flac", Bitrate: 64}, true, `unknown codec "flac"`},
		{"no rate without defaults", Transcoding{Codec: CodecMP3}, false, "set a bitrate or a quality"},
		{"mp3 bitrate 10000", Transcoding{Codec: CodecMP3, Bitrate: 10000}, true, "not an mp3 bitrate"},
		{"vorbis bitrate 10000", Transcoding{Codec: CodecVorbis, Bitrate: 10000}, true, "out of range for vorbis (32 to 500)"},
		{"opus bitrate 10000", Transcoding{Codec: CodecOpus, Bitrate: 10000}, true, "out of range for opus"},
		{"mp3 bitrate 100", Transcoding{Codec: CodecMP3, Bitrate: 100}, true, "bitrate 100 kbit/s is not an mp3 bitrate"},
		{"negative bitrate", Transcoding{Codec: CodecMP3, Bitrate: -8}, true, "must be positive"},
		{"samplerate 1234", Transcoding{Codec: CodecMP3, SampleRate: 1234}, true, "samplerate 1234 Hz is not supported by mp3"},
		{"opus 44100", Transcoding{Codec: CodecOpus, SampleRate: 44100}, true, "not supported by opus"},
		{"opus quality", Transcoding{Codec: CodecOpus, Quality: new(5.0)}, true, "quality is not supported for opus"},
		{"vorbis quality 2", Transcoding{Codec: CodecVorbis, Quality: new(2.0)}, true, "vorbis quality 2 is out of range"},
		{"mp3 quality 10", Transcoding{Codec: CodecMP3, Quality: new(10.0)}, true, "mp3 quality 10 is out of range"},
		{"bitrate and quality", Transcoding{Codec: CodecVorbis, Bitrate: 128, Quality: new(0.5)}, true, "either a bitrate or a quality"},
		{"3 channels", Transcoding{Codec: CodecMP3, Channels: 3}, true, "channels must be 1 or 2"},
		{"stereo with 1 channel", Transcoding{Codec: CodecMP3, Channels: 1, StereoMode: StereoModeStereo}, true, `stereo mode "stereo" needs 2 channels`},
		{"joint stereo with 1 channel", Transcoding{Codec: CodecMP3, Channels: 1, StereoMode: StereoModeJointStereo}, true, "needs 2 channels"},
		{"unknown stereo mode", Transcoding{Codec: CodecMP3, StereoMode: "surround"}, true, `unknown stereo mode "surround"`},
		{"stereo mode for vorbis", Transcoding{Codec: CodecVorbis, StereoMode: StereoModeStereo}, true, "stereo mode applies to mp3 only"},
		{"bad source", Transcoding{SourceName: "/x.pls"}, true, "transcoding source: mount path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.t
			if tr.SourceName == "" {
				tr.SourceName = "/source.ogg"
			}
			if tc.defaults {
				tr.ApplyDefaults()
			}
			err := tr.Validate()
			if tc.err == "" {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want valid", tr, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Validate(%+v) = %v, want an error with %q", tr, err, tc.err)
			}
		})
	}
}

func TestTranscodingApplyDefaults(t *testing.T) {
	for _, tc := range []struct {
		in, want Transcoding
	}{
		{Transcoding{}, Transcoding{Codec: CodecMP3, Bitrate: 128, SampleRate: 44100, Channels: 2, StereoMode: StereoModeJointStereo}},
		{Transcoding{Codec: CodecOpus}, Transcoding{Codec: CodecOpus, Bitrate: 64, SampleRate: 48000, Channels: 2}},
		{Transcoding{Codec: CodecVorbis, Quality: new(0.3)}, Transcoding{Codec: CodecVorbis, Quality: new(0.3), SampleRate: 44100, Channels: 2}},
		{Transcoding{Codec: CodecMP3, Channels: 1}, Transcoding{Codec: CodecMP3, Bitrate: 128, SampleRate: 44100, Channels: 1, StereoMode: StereoModeMono}},
		{Transcoding{StereoMode: StereoModeMono}, Transcoding{Codec: CodecMP3, Bitrate: 128, SampleRate: 44100, Channels: 1, StereoMode: StereoModeMono}},
		{Transcoding{Codec: CodecMP3, Bitrate: 64, SampleRate: 22050}, Transcoding{Codec: CodecMP3, Bitrate: 64, SampleRate: 22050, Channels: 2, StereoMode: StereoModeJointStereo}},
	} {
		got := tc.in
		got.ApplyDefaults()
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ApplyDefaults(%+v) = %+v, want %+v", tc.in, got, tc.want)
		}
		again := got
		if again.ApplyDefaults(); !reflect.DeepEqual(again, got) {
			t.Errorf("ApplyDefaults is not idempotent: %+v then %+v", got, again)
		}
	}
}

func TestKeys(t *testing.T) {
	if got := MountKey("/live.ogg"); got != "/icecast/mounts/live.ogg" {
		t.Errorf("MountKey = %q", got)
	}
	if got, ok := MountPathFromKey("/icecast/mounts/a/b.mp3"); !ok || got != "/a/b.mp3" {
		t.Errorf("MountPathFromKey = %q, %v", got, ok)
	}
	if _, ok := MountPathFromKey("/icecast/mountsx"); ok {
		t.Error("MountPathFromKey accepted a key without a path")
	}
	if got := NodeKey("n1"); got != "/icecast/nodes/n1" {
		t.Errorf("NodeKey = %q", got)
	}
	if got := TranscoderElection("/a.mp3"); got != "/icecast/election/transcoder/a.mp3" {
		t.Errorf("TranscoderElection = %q", got)
	}
}

func TestNewSourceCredentials(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		user, pass, err := NewSourceCredentials()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(user, "source") || len(pass) < 20 || seen[pass] {
			t.Fatalf("weak or repeated credentials %q %q", user, pass)
		}
		seen[pass] = true
		for _, c := range user + pass {
			if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
				t.Fatalf("credential character %q is not lower-case base32", c)
			}
		}
	}
}
