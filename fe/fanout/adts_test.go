package fanout

import (
	"bytes"
	"testing"

	"autoradio/internal/audioframe"
)

// adtsFrame builds an AAC LC stereo ADTS frame of n bytes in all, without
// CRC, at sampling frequency index freq.
func adtsFrame(n int, freq byte) []byte {
	f := make([]byte, n)
	copy(f, []byte{0xFF, 0xF1, 0x40 | freq<<2, 0x80 | byte(n>>11&3), byte(n >> 3), byte(n&7)<<5 | 0x1F, 0xFC})
	for i := audioframe.ADTSHeaderLen; i < n; i++ {
		f[i] = byte(i) & 0x7F // never a syncword
	}
	return f
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
