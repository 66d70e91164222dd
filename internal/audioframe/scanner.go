package audioframe

import (
	"bytes"
	"encoding/binary"
	"time"
)

// Format is the framing of a stream, as a Scanner found it.
type Format int

// Formats.
const (
	Unknown Format = iota
	FormatMP3
	FormatADTS
	FormatOgg
)

func (f Format) String() string {
	return [...]string{"unknown", "MP3", "ADTS", "Ogg"}[f]
}

// A Point is a place in a stream where a decoder can start: the start of
// an MP3 or ADTS frame, or of an Ogg page that begins a packet.
type Point struct {
	Pos int64         // bytes of the stream before it
	At  time.Duration // how long the audio before it plays, since the Scanner began
	// Header is what a decoder needs before Pos: an Ogg stream's header
	// pages (see OggHeaders); nil for MP3 and ADTS. Never modified.
	Header []byte
}

// maxUnit bounds the bytes a Scanner holds while it waits for the rest
// of a frame or page: the longest Ogg page.
const maxUnit = OggHeaderLen + 255 + 255*255

// A Scanner follows an MP3, ADTS or Ogg stream as it arrives, in pieces of
// any size, and finds the points where a decoder can start. It locks on a
// format once it has found two frames in a row (MP3, ADTS) or a page with
// a good CRC (Ogg), and searches again, skipping bytes, when the framing
// breaks (an ID3 tag, junk). It decodes nothing. The zero value is ready.
type Scanner struct {
	format Format
	locked bool
	pend   []byte // bytes not yet known to be a whole frame or page
	pendAt int64  // stream position of pend[0]
	at     time.Duration
	ogg    OggHeaders
	oggAt  oggClock
}

// Format is the format the Scanner locked on; Unknown until it has.
func (s *Scanner) Format() Format { return s.format }

// Scan follows p, the next bytes of the stream, and returns the points
// found since the last call; they may lie a frame or page before the end
// of p, as a point is known once its frame or page is whole.
func (s *Scanner) Scan(p []byte) []Point {
	s.pend = append(s.pend, p...)
	var points []Point
	for len(s.pend) > 0 {
		n, pt, ok, more := s.next()
		if more {
			break
		}
		if !ok {
			s.locked = false
			n = 1 // not a frame or page here: search from the next byte
		} else if pt != nil {
			points = append(points, *pt)
		}
		s.pend = s.pend[n:]
		s.pendAt += int64(n)
	}
	if len(s.pend) > maxUnit {
		s.pendAt += int64(len(s.pend) - maxUnit)
		s.pend = s.pend[len(s.pend)-maxUnit:]
	}
	// Keep the pending bytes in a buffer of their own, so that p's
	// caller may reuse it and the buffer does not grow for ever.
	s.pend = append([]byte(nil), s.pend...)
	return points
}

// next reads the frame or page at the start of pend: its length, the
// point at its start (nil: none there), ok false when there is none, and
// more when more bytes are needed to tell.
func (s *Scanner) next() (n int, pt *Point, ok, more bool) {
	if s.locked {
		return s.unit(s.format)
	}
	for _, f := range []Format{FormatOgg, FormatMP3, FormatADTS} {
		if s.format != Unknown && s.format != f {
			continue
		}
		if n, pt, ok, more = s.unit(f); ok || more {
			if ok {
				s.format, s.locked = f, true
			}
			return n, pt, ok, more
		}
	}
	return 0, nil, false, false
}

// unit reads a frame or page of format f at the start of pend. Unless
// the Scanner is locked, an MP3 or ADTS frame counts only when another
// one follows it.
func (s *Scanner) unit(f Format) (n int, pt *Point, ok, more bool) {
	p := s.pend
	switch f {
	case FormatOgg:
		if len(p) < 4 {
			return 0, nil, false, bytes.HasPrefix(OggMagic, p)
		}
		if !bytes.HasPrefix(p, OggMagic) || len(p) > 5 && (p[4] != 0 || p[5] > 7) {
			return 0, nil, false, false
		}
		if n = OggPageLen(p); n == 0 || len(p) < n {
			return 0, nil, false, true
		}
		if !OggCRCOK(p[:n]) {
			return 0, nil, false, false
		}
		at := s.oggAt.page(p[:n])
		if join, header := s.ogg.Page(p[:n]); join {
			pt = &Point{Pos: s.pendAt, At: at, Header: header}
		}
		return n, pt, true, false
	default:
		fr, ok, more := frameAt(f, p)
		if !ok || more || len(p) < fr.Len {
			return 0, nil, ok, more || ok
		}
		if !s.locked {
			if len(p) < fr.Len+ADTSHeaderLen {
				return 0, nil, false, true
			}
			if next, ok, _ := frameAt(f, p[fr.Len:]); !ok || next.SampleRate != fr.SampleRate {
				return 0, nil, false, false
			}
		}
		pt = &Point{Pos: s.pendAt, At: s.at}
		s.at += fr.Duration()
		return fr.Len, pt, true, false
	}
}

// frameAt reads the MP3 or ADTS frame header at the start of p: ok when
// there is one, more when p is too short to tell.
func frameAt(f Format, p []byte) (fr Frame, ok, more bool) {
	if len(p) < ADTSHeaderLen {
		return Frame{}, false, true
	}
	if f == FormatMP3 {
		fr, ok = MP3([4]byte(p))
	} else {
		fr, ok = ADTS(p)
	}
	return fr, ok, false
}

// oggClock turns the granule positions of an Ogg stream's pages into
// the time its audio plays for, link after link.
type oggClock struct {
	base, at time.Duration // base: where the current link starts
	rate     int
}

// page returns how long the audio before page p plays, and takes note of
// p.
func (c *oggClock) page(p []byte) time.Duration {
	before := c.at
	body := p[OggHeaderLen+int(p[26]):]
	if p[5]&OggBOS != 0 {
		c.base, c.rate = c.at, oggRate(body)
	}
	if g := int64(binary.LittleEndian.Uint64(p[6:14])); g > 0 && c.rate > 0 {
		c.at = max(c.at, c.base+time.Duration(g)*time.Second/time.Duration(c.rate))
	}
	return before
}
