package fanout

import "testing"

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
		if got := mp3FrameLen(c.h); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// mp3Frame builds an MPEG-1 layer III frame of 128 kbit/s at 44.1 kHz
// (417 bytes), with a body that holds no sync.
func mp3Frame() []byte {
	f := make([]byte, 417)
	copy(f, []byte{0xFF, 0xFB, 0x90, 0x00})
	for i := 4; i < len(f); i++ {
		f[i] = byte(i) & 0x7F
	}
	return f
}

// TestMP3Join checks where listeners join an MP3 stream: at the first
// frame followed by a frame of the same version and layer.
func TestMP3Join(t *testing.T) {
	frames := func(n int) []byte {
		var b []byte
		for range n {
			b = append(b, mp3Frame()...)
		}
		return b
	}
	// A sync in garbage whose length points at no frame.
	garbage := []byte{1, 2, 0xFF, 0xFB, 0x90, 0x00, 3}
	checkJoins(t, mp3Framing, []joinCase{
		{"at a frame", frames(3), 0, 0, true},
		{"inside a frame", frames(3), 10, 417, true},
		{"after a false sync", append(garbage, frames(3)...), 0, int64(len(garbage)), true},
		{"last frame unconfirmed", frames(2), 1, 1, false},
		{"nothing yet", nil, 0, 0, false},
		{"a false sync pointing past the end", garbage, 0, 0, false},
		{"nothing found", make([]byte, 8<<10), 3, 3, true},
	})
}
