package fanout

import "bytes"

// A stream with Icy metadata interleaves blocks of metaint bytes of audio
// with metadata blocks: a length byte, then 16 times that many bytes.
// A feed takes its upstream's stream apart (icyDemux) and puts it back
// together with its own count (icyMux), so that its listeners' blocks
// keep their rhythm when the upstream connection is replaced.

// icyDemux splits a stream with Icy metadata into audio and titles.
type icyDemux struct {
	metaint   int
	audioLeft int    // audio bytes left in the current block
	metaLeft  int    // metadata bytes left; -1: the length byte is next
	block     []byte // the metadata block being read, length byte first
}

func newIcyDemux(metaint int) *icyDemux {
	return &icyDemux{metaint: metaint, audioLeft: metaint, metaLeft: -1}
}

// split passes the audio of p to audio, and each complete non-empty
// metadata block, length byte first, to title.
func (d *icyDemux) split(p []byte, audio, title func([]byte)) {
	for len(p) > 0 {
		switch {
		case d.audioLeft > 0:
			n := min(d.audioLeft, len(p))
			audio(p[:n])
			d.audioLeft -= n
			p = p[n:]
		case d.metaLeft < 0:
			d.metaLeft = 16 * int(p[0])
			d.block = append(d.block[:0], p[0])
			p = p[1:]
		default:
			n := min(d.metaLeft, len(p))
			d.block = append(d.block, p[:n]...)
			d.metaLeft -= n
			p = p[n:]
		}
		if d.audioLeft == 0 && d.metaLeft == 0 {
			if len(d.block) > 1 {
				title(d.block)
			}
			d.audioLeft, d.metaLeft = d.metaint, -1
		}
	}
}

// icyMux interleaves audio with metadata blocks every metaint bytes: a
// new title once, in the first block after it came, and empty blocks
// otherwise, as Icecast does. A block is written when the audio after it
// comes, so that a title the upstream sent at the same point (the
// demuxer passes it on after the audio before it) goes in it.
type icyMux struct {
	metaint   int
	audioLeft int
	due       bool   // a block is due before the next audio
	next      []byte // the title block to send next; nil: an empty block
	last      []byte // the last title block sent
}

func newIcyMux(metaint int) *icyMux {
	return &icyMux{metaint: metaint, audioLeft: metaint}
}

// title takes a metadata block (length byte first) for the next block
// boundary, unless it is the title already sent.
func (m *icyMux) title(block []byte) {
	if bytes.Equal(block, m.last) {
		m.next = nil
		return
	}
	m.next = append(m.next[:0], block...)
}

// mux appends audio to out with the metadata blocks it needs, and
// returns out.
func (m *icyMux) mux(out, audio []byte) []byte {
	for len(audio) > 0 {
		if m.due {
			if m.next != nil {
				out = append(out, m.next...)
				m.last, m.next = append(m.last[:0], m.next...), nil
			} else {
				out = append(out, 0)
			}
			m.due, m.audioLeft = false, m.metaint
		}
		n := min(m.audioLeft, len(audio))
		out = append(out, audio[:n]...)
		audio, m.audioLeft = audio[n:], m.audioLeft-n
		m.due = m.audioLeft == 0
	}
	return out
}
