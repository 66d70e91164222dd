package main

import "testing"

// TestTranscodingBadInput: the bad encodings of issue 5 are refused with a
// message that names the value and what is allowed, and nothing is stored.
func TestTranscodingBadInput(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.ok("create-mount", "/live.ogg")
	for _, tc := range []struct {
		name, msg string
		args      []string
	}{
		{"unknown codec", `unknown codec "flac" (use mp3, vorbis, opus, aac)`, []string{"--codec", "flac"}},
		{"bitrate 0", "--bitrate 0 cannot be stored (0 means unset)", []string{"--bitrate", "0"}},
		{"bitrate 10000", "bitrate 10000 kbit/s is not an mp3 bitrate", []string{"--bitrate", "10000"}},
		{"opus bitrate 10000", "bitrate 10000 kbit/s is out of range for opus (6 to 510)", []string{"--codec", "opus", "--bitrate", "10000"}},
		{"samplerate 1234", "samplerate 1234 Hz is not supported by mp3", []string{"--samplerate", "1234"}},
		{"opus samplerate 44100", "samplerate 44100 Hz is not supported by opus", []string{"--codec", "opus", "--samplerate", "44100"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.fails(1, tc.msg, append([]string{"create-transcoding-mount", "/t.mp3", "--source", "/live.ogg"}, tc.args...)...)
		})
	}
	c.ok("create-transcoding-mount", "/t.mp3", "--source", "/live.ogg")
	c.fails(1, "--bitrate 0 cannot be stored", "edit-mount", "/t.mp3", "--bitrate", "0")
	c.fails(1, "bitrate 10000 kbit/s is not an mp3 bitrate", "edit-mount", "/t.mp3", "--bitrate", "10000")
	if m := c.mount("/t.mp3"); m.Transcoding.Bitrate != 128 {
		t.Errorf("refused edits changed the mount: %+v", m.Transcoding)
	}
}
