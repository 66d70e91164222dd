package fanout

import (
	"bytes"
	"encoding/binary"
	"os"
	"slices"
	"testing"

	"autoradio/internal/audioframe"
)

// The seed streams in testdata were made once with ffmpeg from a sine wave:
// seed.mp3 (MPEG-2 layer III, 22.05 kHz mono, 32 kbit/s, no ID3 or Xing
// frame), seed.aac (AAC LC in ADTS, 22.05 kHz mono) and seed.opus (Opus in
// Ogg, 40 ms pages).
func seedStream(f *testing.F, name string) []byte {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// frameStarts returns where the frames of a stream of whole frames start,
// and fails unless they fill it exactly.
func frameStarts(f *testing.F, fr framing, b []byte) []int64 {
	var starts []int64
	p := 0
	for p+fr.headerLen <= len(b) {
		n := fr.frameLen(b[p : p+fr.headerLen])
		if n == 0 {
			f.Fatalf("no frame at %d", p)
		}
		starts = append(starts, int64(p))
		p += n
	}
	if p != len(b) || len(starts) < 3 {
		f.Fatalf("%d frames end at %d of %d bytes", len(starts), p, len(b))
	}
	return starts
}

// windowOf returns a window holding b in small chunks, so that headers
// straddle chunk boundaries.
func windowOf(b []byte) *window {
	w := newWindow(len(b)/100+2, 100)
	fill(&w, b)
	return &w
}

// fuzzFraming checks where a listener joins garbage followed by real frames
// (starting at the given positions of real): at the first frame at or after
// from that another frame of the same stream follows, found by its headers
// alone, never past the real frame it would otherwise get; from within the
// real frames, exactly at the next frame that has a successor. It waits
// for more data only when a header it needs lies past the end.
func fuzzFraming(f *testing.F, fr framing, real []byte) {
	starts := frameStarts(f, fr, real)
	f.Add([]byte{}, uint16(0))
	f.Add([]byte{}, uint16(starts[1]+1))
	f.Add([]byte("xyz"), uint16(1))
	f.Add(real[starts[1]:starts[2]-1], uint16(0)) // a frame cut short: its length points inside the next
	f.Add(append([]byte{1, 2}, real[:fr.headerLen]...), uint16(1))
	f.Fuzz(func(t *testing.T, garbage []byte, from16 uint16) {
		stream := append(slices.Clip(garbage), real...)
		from := int64(from16) % int64(len(stream)+1)
		w := windowOf(stream)
		w.mu.RLock()
		got, head, told := fr.start(w, from)
		w.mu.RUnlock()
		header := func(p int64) []byte {
			if p < 0 || p+int64(fr.headerLen) > int64(len(stream)) {
				return nil
			}
			return stream[p : p+int64(fr.headerLen)]
		}
		confirmed := func(p int64) bool {
			h := header(p)
			if h == nil || fr.frameLen(h) == 0 {
				return false
			}
			next := header(p + int64(fr.frameLen(h)))
			return next != nil && fr.frameLen(next) > 0 && fr.same(h, next)
		}
		if head != nil || got < from || got >= from+fr.maxScan && got != from {
			t.Fatalf("join from %d: %d, %d header bytes", from, got, len(head))
		}
		if !told {
			// Up to the first position whose headers are not all in
			// the window, no frame to join.
			for p := from; ; p++ {
				if p >= from+fr.maxScan || confirmed(p) || got != from {
					t.Fatalf("join from %d: not told, with a decision at %d (got %d)", from, p, got)
				}
				h := header(p)
				if h == nil || fr.frameLen(h) > 0 && header(p+int64(fr.frameLen(h))) == nil {
					return
				}
			}
		}
		if !confirmed(got) {
			if got != from {
				t.Fatalf("join from %d at %d: no frame followed by another", from, got)
			}
			for p := from; p < from+fr.maxScan && p < int64(len(stream)); p++ {
				if confirmed(p) {
					t.Fatalf("join from %d: nothing found, but a frame at %d", from, p)
				}
			}
			return
		}
		for p := from; p < got; p++ {
			if confirmed(p) {
				t.Fatalf("join from %d at %d, after the frame at %d", from, got, p)
			}
		}
		// The real frame a listener would get: the next one followed by
		// another.
		off := int64(len(garbage))
		i, _ := slices.BinarySearch(starts, max(0, from-off))
		if i+1 >= len(starts) || off+starts[i]-from >= fr.maxScan {
			return
		}
		next := off + starts[i]
		if got > next || from >= off && got != next {
			t.Fatalf("join from %d at %d, want the frame at %d", from, got, next)
		}
	})
}

// MP3 listeners join at a frame confirmed by the next one.
func FuzzMP3Join(f *testing.F) { fuzzFraming(f, mp3Framing, seedStream(f, "seed.mp3")) }

// AAC listeners join at an ADTS frame confirmed by the next one.
func FuzzADTSJoin(f *testing.F) { fuzzFraming(f, adtsFraming, seedStream(f, "seed.aac")) }

// oggPageAt returns the length of the whole, valid Ogg page at the start
// of b, or 0.
func oggPageAt(b []byte) int {
	if len(b) < oggHeaderLen || !bytes.HasPrefix(b, oggMagic) {
		return 0
	}
	nseg := int(b[oggHeaderLen-1])
	if len(b) < oggHeaderLen+nseg {
		return 0
	}
	size := oggHeaderLen + nseg
	for _, s := range b[oggHeaderLen : oggHeaderLen+nseg] {
		size += int(s)
	}
	if len(b) < size || !audioframe.OggCRCOK(b[:size]) {
		return 0
	}
	return size
}

// oggJoins returns the header pages of a stream of whole pages with one
// logical stream, and where its audio pages that begin a packet start.
func oggJoins(f *testing.F, b []byte) (header []byte, marks []int64) {
	for p := 0; p < len(b); {
		n := oggPageAt(b[p:])
		if n == 0 {
			f.Fatalf("no Ogg page at %d", p)
		}
		granule := int64(binary.LittleEndian.Uint64(b[p+6 : p+14]))
		switch {
		case marks == nil && (b[p+5]&oggBOS != 0 || granule == 0 || granule == oggNoGranule):
			header = b[:p+n]
		case b[p+5]&oggContinued == 0:
			marks = append(marks, int64(p))
		}
		p += n
	}
	if len(marks) < 3 {
		f.Fatalf("%d join points", len(marks))
	}
	return header, marks
}

// The Ogg tracker marks, wherever a stream is cut into pieces, the same
// join points: each a whole, valid page that begins a packet, with header
// pages that begin a stream. After garbage (as at a switch to a fallback),
// it finds every audio page of a real stream, with its header pages.
func FuzzOggTracker(f *testing.F) {
	real := seedStream(f, "seed.opus")
	header, joins := oggJoins(f, real)
	f.Add([]byte{}, uint16(1))
	f.Add([]byte("OggS\x00\x02garbage"), uint16(7))
	f.Add(real[:60], uint16(27))
	f.Add(real[joins[1]:joins[2]], uint16(100))
	f.Fuzz(func(t *testing.T, garbage []byte, piece uint16) {
		stream := append(slices.Clip(garbage), real...)
		var whole, pieces oggTracker
		whole.observe(stream, 0, 0)
		size := int(piece)%len(stream) + 1
		for at := 0; at < len(stream); at += size {
			pieces.observe(stream[at:min(at+size, len(stream))], int64(at), 0)
		}
		if !slices.EqualFunc(whole.marks, pieces.marks, func(a, b oggMark) bool {
			return a.pos == b.pos && bytes.Equal(a.header, b.header)
		}) {
			t.Fatalf("in pieces of %d: %d marks, whole: %d", size, len(pieces.marks), len(whole.marks))
		}
		var got []int64
		for _, m := range whole.marks {
			n := oggPageAt(stream[m.pos:])
			if n == 0 || stream[m.pos+5]&oggContinued != 0 {
				t.Fatalf("mark at %d: not a page that begins a packet", m.pos)
			}
			if oggPageAt(m.header) == 0 || m.header[5]&oggBOS == 0 {
				t.Fatalf("mark at %d: header pages % x...", m.pos, m.header[:min(len(m.header), 32)])
			}
			for h := m.header; len(h) > 0; h = h[oggPageAt(h):] {
				if oggPageAt(h) == 0 {
					t.Fatalf("mark at %d: header pages hold something else", m.pos)
				}
			}
			if m.pos >= int64(len(garbage)) {
				got = append(got, m.pos-int64(len(garbage)))
				if !bytes.HasSuffix(m.header, header) {
					t.Fatalf("mark at %d: not the stream's header pages", m.pos)
				}
			}
		}
		// A false page start in the garbage holds back what follows until
		// its claimed length has arrived.
		if !bytes.Contains(garbage, oggMagic) && !slices.Equal(got, joins) {
			t.Fatalf("audio pages at %v, want %v", got, joins)
		}
	})
}

// splitIcy splits a stream with Icy metadata every metaint bytes into its
// audio and the positions where its blocks start.
func splitIcy(b []byte, metaint int) (audio []byte, starts []int64) {
	starts = []int64{0}
	for i := 0; i+metaint < len(b); {
		audio = append(audio, b[i:i+metaint]...)
		i += metaint
		n := 16 * int(b[i])
		i++
		if i+n > len(b) {
			break
		}
		i += n
		starts = append(starts, int64(i))
	}
	return audio, starts
}

// The Icy tracker, fed a stream in pieces of any size, marks exactly its
// block starts; a listener joining at one gets the stream's audio from
// there on, none of it taken for metadata.
func FuzzIcyTracker(f *testing.F) {
	f.Add([]byte("0123456789\x01StreamTitle='a';\x00abcdefghij\x00"), uint16(10), uint16(3), uint16(12))
	f.Add([]byte("abc\x00def\x02"), uint16(3), uint16(1), uint16(0))
	f.Add([]byte{}, uint16(1), uint16(0), uint16(0))
	f.Fuzz(func(t *testing.T, stream []byte, metaint, piece, from16 uint16) {
		stream = stream[:min(len(stream), 8<<10)] // fewer blocks than maxMarks
		mi := int(metaint)%512 + 1
		tr := newIcyTracker(mi)
		size := int(piece)%max(len(stream), 1) + 1
		for at := 0; at < len(stream); at += size {
			tr.observe(stream[at:min(at+size, len(stream))], int64(at), 0)
		}
		audio, starts := splitIcy(stream, mi)
		if !slices.Equal(tr.marks, starts) {
			t.Fatalf("metaint %d, pieces of %d: marks %v, want %v", mi, size, tr.marks, starts)
		}
		// The join point: the first block start at or after from whose
		// length byte the window holds, else the last one it holds, else
		// the last block start.
		from, end := int64(from16)%int64(len(stream)+1), int64(len(stream))
		want := int64(-1)
		for _, s := range starts {
			if s+int64(mi) < end {
				want = s
				if s >= from {
					break
				}
			}
		}
		if want < 0 {
			want = starts[len(starts)-1]
		}
		at, ok := tr.joinPoint(from, 0, end)
		i := slices.Index(starts, at)
		if !ok || at != want || i < 0 {
			t.Fatalf("join from %d at %d (%v), want %d; block starts %v", from, at, ok, want, starts)
		}
		if got, _ := splitIcy(stream[at:], mi); !bytes.Equal(got, audio[min(len(audio), i*mi):]) {
			t.Fatalf("joined at %d: audio % x, want % x", at, got, audio[i*mi:])
		}
	})
}
