package fanout

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

// start implements joiner.
func (t *icyTracker) start(w *window, from int64) (int64, []byte) {
	return t.joinPoint(from, w.base), nil
}
