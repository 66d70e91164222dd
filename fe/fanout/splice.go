package fanout

import (
	"bytes"
	"encoding/binary"
	"time"

	"autoradio/internal/audioframe"
)

// A splicer joins the streams of a feed's successive upstream
// connections into one for its listeners. After a reconnection, or a move
// to another node's Icecast and back, the new connection's audio resumes
// right after the last bytes the listeners got when it repeats them
// (Icecast starts each new client with seconds of the past, its burst,
// and relays pass the master's bytes on unchanged), or at its first join
// point when it does not (the gap was longer than the burst).
type splicer struct {
	kind    streamKind
	tail    []byte // the last spliceTail bytes passed on
	pending []byte // a new connection's audio until it is placed
	placing bool   // the data to come is a new connection's
	since   time.Time
}

const (
	// spliceTail is how much of the end of the old stream is looked
	// for in the new one: a unique piece of a frame of any bitrate.
	spliceTail = 256
	// spliceWait and spliceMax bound the search: Icecast sends its burst
	// at once, so what arrives in spliceWait after the first byte holds
	// the overlap if there is one.
	spliceWait = 500 * time.Millisecond
	spliceMax  = 256 << 10
	// spliceRecent bounds what of a new connection's burst goes on after
	// a gap: the listener gets recent audio, not seconds of the past
	// again for each reconnection when they come in quick succession.
	spliceRecent = 16 << 10
)

// How a new connection was placed.
const (
	splicedOverlap = "overlap" // right after the old stream's end
	splicedJoin    = "join"    // at its first join point: some audio was lost
)

// restart makes the data to come a new connection's.
func (s *splicer) restart() {
	s.placing, s.pending = true, s.pending[:0]
}

// take returns what of p goes to the listeners; while it looks for where
// a new connection fits it holds p back and returns nil. how is set when
// the new connection has just been placed.
func (s *splicer) take(p []byte, now time.Time) (out []byte, how string) {
	if !s.placing {
		s.keepTail(p)
		return p, ""
	}
	if len(s.pending) == 0 {
		s.since = now
	}
	s.pending = append(s.pending, p...)
	if len(s.tail) == spliceTail {
		if i := bytes.LastIndex(s.pending, s.tail); i >= 0 {
			return s.place(i+len(s.tail), splicedOverlap)
		}
	}
	if len(s.pending) >= spliceMax || now.Sub(s.since) >= spliceWait || len(s.tail) < spliceTail {
		from := max(0, len(s.pending)-spliceRecent)
		return s.place(from+s.joinPoint(s.pending[from:]), splicedJoin)
	}
	return nil, ""
}

// place passes on pending from i and ends the search.
func (s *splicer) place(i int, how string) ([]byte, string) {
	out := s.pending[i:]
	s.placing, s.pending = false, nil
	s.keepTail(out)
	return out, how
}

func (s *splicer) keepTail(p []byte) {
	if len(p) >= spliceTail {
		s.tail = append(s.tail[:0], p[len(p)-spliceTail:]...)
		return
	}
	s.tail = append(s.tail, p...)
	if n := len(s.tail); n > spliceTail {
		s.tail = append(s.tail[:0], s.tail[n-spliceTail:]...)
	}
}

// joinPoint returns where a listener that heard the old stream can go
// on in p: a frame followed by another (MP3, ADTS); for Ogg, the first
// page after the header pages a new connection starts with, as the
// listener has the stream's headers already. 0 when none is found.
func (s *splicer) joinPoint(p []byte) int {
	switch s.kind {
	case kindMP3:
		return mp3Framing.startIn(p)
	case kindADTS:
		return adtsFraming.startIn(p)
	case kindOgg:
		return oggAudioPage(p)
	}
	return 0
}

// oggAudioPage returns the offset of the first page of p that is neither
// a first page nor a header page (granule 0), confirmed by the page after
// it; 0 when there is none.
func oggAudioPage(p []byte) int {
	for i := 0; i+audioframe.OggHeaderLen <= len(p); i++ {
		n := audioframe.OggPageLen(p[i:])
		if n == 0 || !audioframe.OggCRCOK(p[i:i+n]) {
			continue
		}
		flags, granule := p[i+5], int64(binary.LittleEndian.Uint64(p[i+6:i+14]))
		if flags&(oggBOS|oggContinued) == 0 && granule != 0 && granule != oggNoGranule {
			return i
		}
		i += n - 1
	}
	return 0
}

// startIn is start for a slice: the first frame start in p followed by
// another frame of the same stream; 0 when none is found.
func (f framing) startIn(p []byte) int {
	for i := 0; i+f.headerLen <= len(p); i++ {
		n := f.frameLen(p[i:])
		if n == 0 || i+n+f.headerLen > len(p) {
			continue
		}
		if next := p[i+n:]; f.frameLen(next) > 0 && f.same(p[i:], next) {
			return i
		}
	}
	return 0
}
