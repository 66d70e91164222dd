package fanout

import "mime"

// A joiner knows where a new listener may join a stream of one format:
// Ogg listeners need the stream's header pages first and must then start
// at a page boundary; MP3 and AAC listeners best start at a frame; Icy
// listeners count metadata blocks from their first byte.
type joiner interface {
	// observe follows p, which starts at position at of the stream; base
	// is the oldest position the window still holds.
	observe(p []byte, at, base int64)
	// start returns where a listener joining at about from starts, and
	// what it must get first; false when the window does not hold enough
	// yet to tell (a feed's first listener comes before any data). w is
	// read-locked.
	start(w *window, from int64) (int64, []byte, bool)
}

// streamKind is the format of a stream, as far as joining it goes.
type streamKind int

const (
	kindRaw  streamKind = iota // anything else: joined anywhere
	kindOgg                    // Ogg pages
	kindMP3                    // MPEG audio layer III frames
	kindADTS                   // AAC in ADTS frames
	kindIcy                    // Icy metadata every so many bytes (MP3 or AAC)
)

// kindOf returns the kind of a stream of Content-Type contentType.
func kindOf(contentType string) streamKind {
	t, _, _ := mime.ParseMediaType(contentType)
	switch t {
	case "application/ogg", "audio/ogg", "video/ogg":
		return kindOgg
	case "audio/mpeg", "audio/mp3", "audio/mpeg3":
		return kindMP3
	case "audio/aac", "audio/aacp":
		return kindADTS
	}
	return kindRaw
}

// joinerOf returns a joiner for a stream of kind k; metaint > 0 (Icy
// metadata every metaint bytes) overrides the kind.
func joinerOf(k streamKind, metaint int) joiner {
	switch {
	case metaint > 0:
		return newIcyTracker(metaint)
	case k == kindOgg:
		return &oggTracker{}
	case k == kindMP3:
		return mp3Framing
	case k == kindADTS:
		return adtsFraming
	}
	return rawJoin{}
}

// rawJoin joins a stream anywhere.
type rawJoin struct{}

func (rawJoin) observe([]byte, int64, int64)                      {}
func (rawJoin) start(_ *window, from int64) (int64, []byte, bool) { return from, nil, true }

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

// A framing is a format of self-delimiting frames (MP3, ADTS): a listener
// joins at a frame found by its header, confirmed by the next header.
type framing struct {
	headerLen int
	maxScan   int64                     // bytes searched for a frame
	frameLen  func(h []byte) int        // 0: h is not a frame header
	same      func(h, next []byte) bool // next belongs to the same stream as h
}

func (framing) observe([]byte, int64, int64) {}

// start returns the first frame start at or after from that is followed
// by another frame, or from when none is found within maxScan; false when
// the window ends before a header it needs to tell.
func (f framing) start(w *window, from int64) (int64, []byte, bool) {
	h, h2 := make([]byte, f.headerLen), make([]byte, f.headerLen)
	for p := from; p < from+f.maxScan; p++ {
		if !w.read(h, p) {
			return from, nil, false
		}
		n := f.frameLen(h)
		if n == 0 {
			continue
		}
		if !w.read(h2, p+int64(n)) {
			return from, nil, false
		}
		if f.frameLen(h2) > 0 && f.same(h, h2) {
			return p, nil, true
		}
	}
	return from, nil, true
}
