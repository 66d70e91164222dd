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
