package hls

import (
	"time"

	"autoradio/internal/audioframe"
)

// A segment is a packed-audio segment: a timestamp tag, then whole frames.
type segment struct {
	seq   int64
	start time.Time // when its first frame went live
	dur   time.Duration
	data  []byte
	// disc: its timestamps do not follow the previous segment's.
	disc bool
}

// A format is a framing that segments can be cut from.
type format struct {
	ext, contentType string
	headerLen        int
	frame            func(p []byte) (audioframe.Frame, bool) // at the start of p
}

var (
	formatMP3 = format{ext: "mp3", contentType: "audio/mpeg", headerLen: 4,
		frame: func(p []byte) (audioframe.Frame, bool) { return audioframe.MP3([4]byte(p)) }}
	formatADTS = format{ext: "aac", contentType: "audio/aac", headerLen: audioframe.ADTSHeaderLen,
		frame: audioframe.ADTS}
)

// A new feed's first data is older audio, which comes faster than real
// time, in one burst or several (Icecast's burst, then a relay catching
// up), each moving the clock back. Frames are timed once the clock has
// not moved back by more than settleStep for settleQuiet.
const (
	settleStep  = 20 * time.Millisecond
	settleQuiet = time.Second
)

// A cutter cuts a stream of frames into segments at the boundaries of
// target duration since the Unix epoch, by the live time of each frame
// (see clock). Segment numbers are boundary indexes (shifted up only when
// the clock moves back by more than a segment, so that they never repeat),
// the timestamp tag of a segment is the end of the previous segment when
// that is within maxOverlap before or maxGap after the live time of its
// first frame, else that live time: timestamps run on without gaps or
// overlaps (players take timestamps that go back for an error) unless
// they must; a segment whose timestamps go back starts a discontinuity.
type cutter struct {
	f      format
	target time.Duration
	out    func(*segment) // gets each segment once it is whole

	pend    []byte        // stream data not yet in a segment
	locked  bool          // pend starts at a frame that follows another
	pos     time.Duration // the audio in segments so far
	clk     clock
	settled bool      // the first bursts are over: frames can be timed
	back    time.Time // when the clock last moved back, before settled
	shift   int64
	cur     *segment
	end     time.Time // where the last segment's timestamps end
}

func newCutter(f format, target time.Duration, out func(*segment)) *cutter {
	return &cutter{f: f, target: target, out: out, clk: clock{window: 10 * time.Second}, locked: true}
}

// take cuts p, the next data of the stream, which arrived at now.
func (c *cutter) take(p []byte, now time.Time) {
	c.pend = append(c.pend, p...)
	frames, dur := c.frames()
	moved, again := c.clk.observe(now, c.pos+dur)
	if !c.settled {
		// Timing frames by a clock still moving back would cut them
		// wrong: wait until it stays put.
		if !again || moved < -settleStep {
			c.back = now
		}
		if now.Sub(c.back) < settleQuiet || len(frames) == 0 {
			if len(c.pend) > maxPending {
				c.pend = append(c.pend[:0], c.pend[len(c.pend)-maxPending:]...)
			}
			return
		}
		c.settled = true
	}
	used := 0
	for _, fr := range frames {
		c.add(c.pend[fr.at:fr.at+fr.len], fr.dur)
		used = fr.at + fr.len
	}
	if len(frames) == 0 && len(c.pend) > maxPending {
		used = len(c.pend) - maxPending // no frames: junk
	}
	c.pend = append(c.pend[:0], c.pend[used:]...)
}

// maxOverlap and maxGap bound how far the timestamps of a segment may run
// ahead of and behind its live time, so that they follow the previous
// segment's.
const (
	maxOverlap = time.Second
	maxGap     = 100 * time.Millisecond
)

// maxPending bounds the data a cutter keeps that is not yet in a segment
// while it finds no frame in it.
const maxPending = 256 << 10

// A span is a frame in pend.
type span struct {
	at, len int
	dur     time.Duration
}

// frames returns the whole frames in pend, skipping bytes that are not
// one (after a skip, a frame counts only when another follows it), and
// the audio they hold.
func (c *cutter) frames() ([]span, time.Duration) {
	var out []span
	var dur time.Duration
	for at := 0; at+c.f.headerLen <= len(c.pend); {
		fr, ok := c.f.frame(c.pend[at:])
		if ok && !c.locked {
			next := at + fr.Len
			if next+c.f.headerLen > len(c.pend) {
				break
			}
			_, ok = c.f.frame(c.pend[next:])
		}
		if !ok {
			c.locked = false
			at++
			continue
		}
		if at+fr.Len > len(c.pend) {
			break
		}
		c.locked = true
		out = append(out, span{at: at, len: fr.Len, dur: fr.Duration()})
		dur += fr.Duration()
		at += fr.Len
	}
	return out, dur
}

// add puts a frame of duration d in the current segment, or ends that and
// starts the next when the frame's live time is past its boundary.
func (c *cutter) add(frame []byte, d time.Duration) {
	base, _ := c.clk.base()
	t := base.Add(c.pos)
	c.pos += d
	idx := t.UnixNano() / int64(c.target)
	seq := idx + c.shift
	if c.cur != nil {
		switch {
		case seq > c.cur.seq+1 && c.shift > 0:
			// The clock moved forward again: take back the shift.
			c.shift = max(0, c.cur.seq+1-idx)
			seq = idx + c.shift
		case seq <= c.cur.seq && c.cur.dur >= c.target*3/2:
			// The clock moved back by more than a segment.
			seq = c.cur.seq + 1
			c.shift = seq - idx
		}
	}
	if c.cur == nil || seq > c.cur.seq {
		c.flush()
		c.cur = &segment{seq: seq, start: t}
		if !c.end.IsZero() {
			switch d := t.Sub(c.end); {
			case d < -maxOverlap:
				c.cur.disc = true
			case d < maxGap:
				c.cur.start = c.end
			}
		}
		c.cur.data = timestampTag(pts(c.cur.start))
	}
	c.cur.data = append(c.cur.data, frame...)
	c.cur.dur += d
}

// flush hands on the current segment.
func (c *cutter) flush() {
	if c.cur != nil {
		c.end = c.cur.start.Add(c.cur.dur)
		c.out(c.cur)
		c.cur = nil
	}
}

// pts returns the 90 kHz timestamp of t.
func pts(t time.Time) uint64 {
	return uint64(t.UnixNano())/1e9*ptsHz + uint64(t.UnixNano()%1e9)*ptsHz/1e9
}
