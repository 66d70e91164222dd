package httpfe

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"testing"
)

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

func TestKindOf(t *testing.T) {
	for ct, want := range map[string]streamKind{
		"application/ogg": kindOgg, "audio/ogg; codecs=opus": kindOgg, "audio/mpeg": kindMP3,
		"audio/aacp": kindRaw, "": kindRaw,
	} {
		if got := kindOf(ct); got != want {
			t.Errorf("kindOf(%q) = %v, want %v", ct, got, want)
		}
	}
}

// TestIcyTracker feeds a stream with metadata every 10 bytes, in pieces
// of every size, and checks the block starts it marks.
func TestIcyTracker(t *testing.T) {
	var stream []byte
	var want []int64
	for i, meta := range []string{"", "StreamTitle='a';", "", "StreamTitle='bc';"} {
		want = append(want, int64(len(stream)))
		stream = append(stream, bytes.Repeat([]byte{byte('0' + i)}, 10)...)
		padded := (len(meta) + 15) / 16 * 16
		stream = append(stream, byte(padded/16))
		stream = append(stream, meta...)
		stream = append(stream, make([]byte, padded-len(meta))...)
	}
	want = append(want, int64(len(stream)))
	for size := 1; size <= len(stream); size++ {
		tr := newIcyTracker(10)
		for at := 0; at < len(stream); at += size {
			end := min(at+size, len(stream))
			tr.observe(stream[at:end], int64(at), 0)
		}
		if !slices.Equal(tr.marks, want) {
			t.Fatalf("pieces of %d: marks %v, want %v", size, tr.marks, want)
		}
	}
	tr := newIcyTracker(10)
	tr.observe(stream, 0, want[2])
	if tr.marks[0] != want[2] {
		t.Errorf("marks before the window kept: %v", tr.marks)
	}
	if got := tr.joinPoint(want[2]+1, want[2]); got != want[3] {
		t.Errorf("joinPoint after block 2 = %d, want %d", got, want[3])
	}
}

// oggPage builds an Ogg page with one segment of body.
func oggPage(flags byte, granule int64, body string) []byte {
	p := make([]byte, oggHeaderLen, oggHeaderLen+1+len(body))
	copy(p, oggMagic)
	p[5] = flags
	binary.LittleEndian.PutUint64(p[6:14], uint64(granule))
	p[26] = 1
	p = append(append(p, byte(len(body))), body...)
	var crc uint32
	for _, b := range p {
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^b]
	}
	binary.LittleEndian.PutUint32(p[22:26], crc)
	return p
}

// TestOggTracker follows two chained streams with garbage between them,
// in pieces of every size: header pages are kept per stream, and audio
// pages that begin a packet are marked with their stream's headers.
func TestOggTracker(t *testing.T) {
	type mark struct {
		pos     int64
		headers int // length of the header pages
		sum     uint32
	}
	var stream []byte
	var want []mark
	add := func(p []byte, marked bool, header []byte) {
		if marked {
			want = append(want, mark{int64(len(stream)), len(header), crc32.ChecksumIEEE(header)})
		}
		stream = append(stream, p...)
	}
	h1 := append(oggPage(oggBOS, 0, "ident1"), oggPage(0, -1, "setup1-part1")...)
	h1 = append(h1, oggPage(oggContinued, 0, "setup1-end")...)
	add(h1, false, nil)
	add(oggPage(0, 100, "audio"), true, h1)
	add(oggPage(oggContinued, 200, "rest"), false, nil)
	add(oggPage(0, 300, "audio"), true, h1)
	add([]byte("OggSgarbage that is not a page, long enough to look like a header"), false, nil)
	h2 := append(oggPage(oggBOS, 0, "ident2"), oggPage(0, 0, "setup2")...)
	add(h2, false, nil)
	add(oggPage(0, 50, "audio"), true, h2)
	for size := 1; size <= len(stream); size++ {
		var tr oggTracker
		for at := 0; at < len(stream); at += size {
			tr.observe(stream[at:min(at+size, len(stream))], int64(at), 0)
		}
		var got []mark
		for _, m := range tr.marks {
			got = append(got, mark{m.pos, len(m.header), crc32.ChecksumIEEE(m.header)})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pieces of %d: marks %+v, want %+v", size, got, want)
		}
	}
}
