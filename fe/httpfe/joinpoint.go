package httpfe

import (
	"bytes"
	"encoding/binary"
	"mime"
)

// Where a new listener may join a stream depends on its format: Ogg
// listeners need the stream's header pages first and must then start at a
// page boundary; MP3 listeners best start at a frame.
type streamKind int

const (
	kindRaw streamKind = iota // anything else: joined anywhere
	kindOgg
	kindMP3
	kindIcy // Icy metadata every so many bytes (MP3 or AAC)
)

func kindOf(contentType string) streamKind {
	t, _, _ := mime.ParseMediaType(contentType)
	switch t {
	case "application/ogg", "audio/ogg", "video/ogg":
		return kindOgg
	case "audio/mpeg", "audio/mp3", "audio/mpeg3":
		return kindMP3
	}
	return kindRaw
}

// Ogg page layout (RFC 3533).
const (
	oggHeaderLen   = 27
	oggContinued   = 0x01 // the page's first packet began on an earlier page
	oggBOS         = 0x02 // first page of a logical stream
	oggMaxHeaders  = 256 << 10
	oggNoGranule   = -1 // no packet ends on the page
	oggChecksumEnd = 26
)

var oggMagic = []byte("OggS")

// oggTracker follows the Ogg pages of a stream as it arrives: it keeps the
// header pages (granule position 0, or -1 when a header spans pages) that
// follow each beginning-of-stream page, and marks the audio pages at which
// a new listener can start, each with the header pages it needs. Icecast
// sends whole pages, except when it switches a listener between a mount and
// its fallback; a bad page is skipped by searching for the next one.
type oggTracker struct {
	pend       []byte // the page being received
	pendAt     int64  // its position in the stream
	collecting []byte // header pages of a stream being received
	inHeaders  bool
	header     []byte // header pages of the current stream; never modified
	marks      []oggMark
}

type oggMark struct {
	pos    int64
	header []byte
}

// observe follows p, which starts at position at of the stream; base is
// the oldest position the stream window still holds.
func (t *oggTracker) observe(p []byte, at, base int64) {
	t.pendAt = at - int64(len(t.pend))
	t.pend = append(t.pend, p...)
	for len(t.pend) >= oggHeaderLen {
		// Version 0 and no unknown flag, or not a page: a false start
		// would make the tracker wait for a page of the wrong size.
		if !bytes.HasPrefix(t.pend, oggMagic) || t.pend[4] != 0 || t.pend[5] > 7 {
			i := bytes.Index(t.pend[1:], oggMagic)
			if i < 0 {
				t.drop(len(t.pend) - len(oggMagic) + 1)
				break
			}
			t.drop(i + 1)
			continue
		}
		nseg := int(t.pend[oggHeaderLen-1])
		if len(t.pend) < oggHeaderLen+nseg {
			break
		}
		size := oggHeaderLen + nseg
		for _, s := range t.pend[oggHeaderLen : oggHeaderLen+nseg] {
			size += int(s)
		}
		if len(t.pend) < size {
			break
		}
		if !oggChecksumOK(t.pend[:size]) {
			t.drop(1)
			continue
		}
		t.page(t.pend[:size], t.pendAt)
		t.drop(size)
	}
	t.marks = trimMarks(t.marks, func(m oggMark) int64 { return m.pos }, base)
}

// maxMarks bounds the join points a tracker keeps.
const maxMarks = 4096

// trimMarks drops the marks before base, and the oldest beyond maxMarks.
func trimMarks[M any](marks []M, pos func(M) int64, base int64) []M {
	i := 0
	for i < len(marks) && (pos(marks[i]) < base || len(marks)-i > maxMarks) {
		i++
	}
	if i == 0 {
		return marks
	}
	return append(marks[:0], marks[i:]...)
}

func (t *oggTracker) drop(n int) {
	t.pend = t.pend[n:]
	t.pendAt += int64(n)
	if len(t.pend) == 0 {
		t.pend = nil
	}
}

// page takes note of one complete page p at position at.
func (t *oggTracker) page(p []byte, at int64) {
	flags := p[5]
	granule := int64(binary.LittleEndian.Uint64(p[6:14]))
	switch {
	case flags&oggBOS != 0:
		if !t.inHeaders {
			t.collecting, t.inHeaders = nil, true
		}
		t.collect(p)
	case t.inHeaders && (granule == 0 || granule == oggNoGranule):
		t.collect(p)
	default:
		if t.inHeaders {
			t.header, t.collecting, t.inHeaders = t.collecting, nil, false
		}
		if flags&oggContinued == 0 && t.header != nil {
			t.marks = append(t.marks, oggMark{pos: at, header: t.header})
		}
	}
}

func (t *oggTracker) collect(p []byte) {
	if len(t.collecting)+len(p) > oggMaxHeaders {
		t.collecting, t.inHeaders = nil, false // not a stream we understand
		return
	}
	t.collecting = append(t.collecting, p...)
}

// joinPoint returns the first page at or after from where a listener can
// start, and the header pages to send it first; failing that the last
// such page in the window (from base), or the start of the stream.
func (t *oggTracker) joinPoint(from, base int64) (int64, []byte) {
	for _, m := range t.marks {
		if m.pos >= from {
			return m.pos, m.header
		}
	}
	if n := len(t.marks); n > 0 && t.marks[n-1].pos >= base {
		return t.marks[n-1].pos, t.marks[n-1].header
	}
	if base == 0 {
		return 0, nil // the stream's own header pages are still in the window
	}
	return from, t.header
}

// oggChecksumOK checks the CRC of page p (polynomial 0x04c11db7, computed
// with the checksum field as zeros).
func oggChecksumOK(p []byte) bool {
	var crc uint32
	for i, b := range p {
		if i >= oggChecksumEnd-4 && i < oggChecksumEnd {
			b = 0
		}
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^b]
	}
	return crc == binary.LittleEndian.Uint32(p[oggChecksumEnd-4:oggChecksumEnd])
}

var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// MPEG audio layer III bit rates (kbit/s) by index, and sample rates of
// MPEG-1 (halved for MPEG-2, quartered for MPEG-2.5).
var (
	mp3V1Rates     = [15]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
	mp3V2Rates     = [15]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
	mp3SampleRates = [3]int{44100, 48000, 32000}
)

// mp3FrameLen returns the length of the MP3 (MPEG layer III) frame whose
// header is h, or 0 when h is not a valid frame header.
func mp3FrameLen(h [4]byte) int {
	if h[0] != 0xFF || h[1]&0xE0 != 0xE0 {
		return 0
	}
	version, layer := h[1]>>3&3, h[1]>>1&3 // version 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5; layer 1: III
	bi, si, pad := int(h[2]>>4), int(h[2]>>2&3), int(h[2]>>1&1)
	if version == 1 || layer != 1 || bi == 0 || bi == 15 || si == 3 {
		return 0
	}
	if version == 3 {
		return 144*mp3V1Rates[bi]*1000/mp3SampleRates[si] + pad
	}
	rate := mp3SampleRates[si] / 2
	if version == 0 {
		rate /= 2
	}
	return 72*mp3V2Rates[bi]*1000/rate + pad
}

// icyTracker follows a stream with Icy metadata: blocks of metaint bytes
// of audio, each followed by a length byte and 16 times that many bytes of
// metadata. A listener that asked for metadata counts the blocks from the
// start of its data, so it must start at a block's start.
type icyTracker struct {
	metaint   int
	audioLeft int // audio bytes left in the current block
	metaLeft  int // metadata bytes left; -1: the length byte is next
	marks     []int64
}

func newIcyTracker(metaint int) icyTracker {
	return icyTracker{metaint: metaint, audioLeft: metaint, metaLeft: -1, marks: []int64{0}}
}

// observe follows p, which starts at position at of the stream; base is
// the oldest position the stream window still holds.
func (t *icyTracker) observe(p []byte, at, base int64) {
	for i := 0; i < len(p); {
		switch {
		case t.audioLeft > 0:
			n := min(t.audioLeft, len(p)-i)
			t.audioLeft -= n
			i += n
		case t.metaLeft < 0:
			t.metaLeft = 16 * int(p[i])
			i++
		default:
			n := min(t.metaLeft, len(p)-i)
			t.metaLeft -= n
			i += n
		}
		if t.audioLeft == 0 && t.metaLeft == 0 {
			t.audioLeft, t.metaLeft = t.metaint, -1
			t.marks = append(t.marks, at+int64(i))
		}
	}
	t.marks = trimMarks(t.marks, func(p int64) int64 { return p }, base)
}

// joinPoint returns the first block start at or after from, or failing
// that the last one in the window.
func (t *icyTracker) joinPoint(from, base int64) int64 {
	for _, m := range t.marks {
		if m >= from {
			return m
		}
	}
	if n := len(t.marks); n > 0 && t.marks[n-1] >= base {
		return t.marks[n-1]
	}
	return from
}
