package fanout

import (
	"bytes"
	"testing"
)

// adtsFrame builds an AAC LC stereo ADTS frame of n bytes in all, without
// CRC, at sampling frequency index freq.
func adtsFrame(n int, freq byte) []byte {
	f := make([]byte, n)
	copy(f, []byte{0xFF, 0xF1, 0x40 | freq<<2, 0x80 | byte(n>>11&3), byte(n >> 3), byte(n&7)<<5 | 0x1F, 0xFC})
	for i := adtsHeaderLen; i < n; i++ {
		f[i] = byte(i) & 0x7F // never a syncword
	}
	return f
}

func TestADTSFrameLen(t *testing.T) {
	for _, c := range []struct {
		name string
		h    []byte
		want int
	}{
		{"AAC LC 44.1 kHz stereo", []byte{0xFF, 0xF1, 0x50, 0x80, 0x2E, 0x7F, 0xFC}, 371},
		{"with CRC", []byte{0xFF, 0xF0, 0x50, 0x80, 0x2E, 0x7F, 0xFC}, 371},
		{"MPEG-2 ID, HE-AAC 24 kHz", []byte{0xFF, 0xF9, 0x58, 0x80, 0x2E, 0x7F, 0xFC}, 371},
		{"longest frame", []byte{0xFF, 0xF1, 0x50, 0x83, 0xFF, 0xFF, 0xFC}, 8191},
		{"one byte of audio", []byte{0xFF, 0xF1, 0x50, 0x80, 0x01, 0x1F, 0xFC}, 8},
		{"header only", []byte{0xFF, 0xF1, 0x50, 0x80, 0x00, 0xFF, 0xFC}, 0},
		{"CRC only", []byte{0xFF, 0xF0, 0x50, 0x80, 0x01, 0x3F, 0xFC}, 0},
		{"no sync", []byte{0xFF, 0xE1, 0x50, 0x80, 0x2E, 0x7F, 0xFC}, 0},
		{"MP3 header", []byte{0xFF, 0xFB, 0x90, 0x00, 0x2E, 0x7F, 0xFC}, 0},
		{"reserved sampling frequency", []byte{0xFF, 0xF1, 0x74, 0x80, 0x2E, 0x7F, 0xFC}, 0},
		{"explicit sampling frequency", []byte{0xFF, 0xF1, 0x7C, 0x80, 0x2E, 0x7F, 0xFC}, 0},
		{"short", []byte{0xFF, 0xF1, 0x50, 0x80, 0x2E, 0x7F}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := adtsFrameLen(c.h); got != c.want {
				t.Errorf("adtsFrameLen(% x) = %d, want %d", c.h, got, c.want)
			}
		})
	}
	if got := adtsFrameLen(adtsFrame(300, 4)); got != 300 {
		t.Errorf("adtsFrame(300) has length %d", got)
	}
}

// TestADTSJoin checks where listeners join an ADTS stream: at the first
// frame followed by a frame of the same stream.
func TestADTSJoin(t *testing.T) {
	frames := func(freq byte, n int) []byte {
		var b []byte
		for range n {
			b = append(b, adtsFrame(200, freq)...)
		}
		return b
	}
	// A syncword in garbage whose length points at no header.
	false1 := append([]byte("xyz"), adtsFrame(20, 4)[:10]...)
	// A frame whose next frame has another sampling frequency, as at a
	// switch to a fallback.
	switched := append(adtsFrame(200, 3), frames(4, 3)...)
	checkJoins(t, adtsFraming, []joinCase{
		{"at a frame", frames(4, 3), 0, 0, true},
		{"inside a frame", frames(4, 3), 50, 200, true},
		{"after a false syncword", append(false1, frames(4, 3)...), 0, int64(len(false1)), true},
		{"across a format change", switched, 0, 200, true},
		{"last frame incomplete", frames(4, 2)[:350], 1, 1, false},
		{"nothing yet", nil, 0, 0, false},
		{"nothing found", bytes.Repeat([]byte{0}, 20<<10), 5, 5, true},
	})
}
