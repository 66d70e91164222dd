package fanout

import "testing"

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
