package fanout

// icyTracker follows a stream with Icy metadata: blocks of metaint bytes
// of audio, each followed by a length byte and 16 times that many bytes of
// metadata. A listener that asked for metadata counts the blocks from the
// start of its data, so it must start at a block's start.
//
// Icecast sends a title once, in the metadata block after it changed, and
// empty blocks after that; it sends each of its own new listeners the
// current title in their first block. A feed is one such listener, so the
// tracker also keeps the titles still needed, and a listener joining the
// feed later gets the current one in its first block in the same way.
type icyTracker struct {
	metaint   int
	audioLeft int // audio bytes left in the current block
	metaLeft  int // metadata bytes left; -1: the length byte is next
	marks     []int64
	block     []byte     // the metadata block being read, length byte first
	blockAt   int64      // the position of its length byte
	titles    []icyTitle // non-empty metadata blocks, oldest first
}

// An icyTitle is a non-empty metadata block of the stream.
type icyTitle struct {
	at    int64  // the position of its length byte
	block []byte // the whole block, length byte first
}

func newIcyTracker(metaint int) *icyTracker {
	return &icyTracker{metaint: metaint, audioLeft: metaint, metaLeft: -1, marks: []int64{0}}
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
			t.block, t.blockAt = append(t.block[:0], p[i]), at+int64(i)
			i++
		default:
			n := min(t.metaLeft, len(p)-i)
			t.block = append(t.block, p[i:i+n]...)
			t.metaLeft -= n
			i += n
		}
		if t.audioLeft == 0 && t.metaLeft == 0 {
			t.endBlock(at + int64(i))
		}
	}
	t.marks = trimMarks(t.marks, func(p int64) int64 { return p }, base)
	t.trimTitles(base)
}

// endBlock records the metadata block just read, which ends at end.
func (t *icyTracker) endBlock(end int64) {
	if len(t.block) > 1 {
		t.titles = append(t.titles, icyTitle{at: t.blockAt, block: append([]byte(nil), t.block...)})
	}
	t.audioLeft, t.metaLeft = t.metaint, -1
	t.marks = append(t.marks, end)
}

// trimTitles drops the titles that no listener can need any more: those
// before base but the last of them, which is still current at base.
func (t *icyTracker) trimTitles(base int64) {
	i := 0
	for i+1 < len(t.titles) && (t.titles[i+1].at < base || len(t.titles)-i > maxMarks) {
		i++
	}
	if i > 0 {
		t.titles = append(t.titles[:0], t.titles[i:]...)
	}
}

// titleBefore returns the last non-empty metadata block before pos (nil:
// none).
func (t *icyTracker) titleBefore(pos int64) []byte {
	var block []byte
	for _, tt := range t.titles {
		if tt.at >= pos {
			break
		}
		block = tt.block
	}
	return block
}

// joinPoint returns the first block start at or after from whose
// metadata length byte the window already holds (end is the window's
// end), or failing that the last such one in the window, or failing that
// the last block start in the window; false when the window holds no
// block start, and from is returned.
func (t *icyTracker) joinPoint(from, base, end int64) (int64, bool) {
	last := int64(-1)
	for _, m := range t.marks {
		if m < base || m+int64(t.metaint) >= end {
			continue
		}
		if m >= from {
			return m, true
		}
		last = m
	}
	if last >= 0 {
		return last, true
	}
	if n := len(t.marks); n > 0 && t.marks[n-1] >= base {
		return t.marks[n-1], true
	}
	return from, false
}

// start implements joiner. When the listener's first metadata block is
// empty, the listener gets the block's audio and the current title
// instead, then the stream after that block's length byte: its first
// block carries the title, and the shared window stays as it is.
// A feed's first listener starts at the stream's first byte, a block
// start, with the first block as Icecast sent it.
func (t *icyTracker) start(w *window, from int64) (int64, []byte, bool) {
	pos, ok := t.joinPoint(from, w.base, w.end)
	at := pos + int64(t.metaint) // the length byte of its first block
	if !ok || at >= w.end || w.byteAt(at) != 0 {
		return pos, nil, true
	}
	title := t.titleBefore(at)
	if title == nil {
		return pos, nil, true
	}
	first := make([]byte, t.metaint, t.metaint+len(title))
	w.read(first, pos)
	return at + 1, append(first, title...), true
}
