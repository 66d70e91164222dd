package fanout

import (
	"bytes"
	"encoding/binary"

	"autoradio/internal/audioframe"
)

// Ogg page layout (RFC 3533).
const (
	oggHeaderLen  = 27
	oggContinued  = 0x01 // the page's first packet began on an earlier page
	oggBOS        = 0x02 // first page of a logical stream
	oggMaxHeaders = 256 << 10
	oggNoGranule  = -1 // no packet ends on the page
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
		if !audioframe.OggCRCOK(t.pend[:size]) {
			t.drop(1)
			continue
		}
		t.page(t.pend[:size], t.pendAt)
		t.drop(size)
	}
	t.marks = trimMarks(t.marks, func(m oggMark) int64 { return m.pos }, base)
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

// start implements joiner. A feed's first listener starts at the
// stream's first byte: Icecast begins with the header pages.
func (t *oggTracker) start(w *window, from int64) (int64, []byte, bool) {
	pos, header := t.joinPoint(from, w.base)
	return pos, header, true
}
