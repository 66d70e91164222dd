package fanout

import (
	"encoding/binary"
	"hash/crc32"
	"slices"
	"testing"

	"autoradio/internal/audioframe"
)

// oggPage builds an Ogg page with one segment of body.
func oggPage(flags byte, granule int64, body string) []byte {
	p := make([]byte, oggHeaderLen, oggHeaderLen+1+len(body))
	copy(p, oggMagic)
	p[5] = flags
	binary.LittleEndian.PutUint64(p[6:14], uint64(granule))
	p[26] = 1
	p = append(append(p, byte(len(body))), body...)
	binary.LittleEndian.PutUint32(p[22:26], audioframe.OggCRC(p))
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
