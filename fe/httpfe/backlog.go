package httpfe

import (
	"time"

	"autoradio/internal/audioframe"
)

// maxBacklogBytes bounds a held source's backlog whatever its bit rate
// (10 s of FLAC is 1.8 MB).
const maxBacklogBytes = 2 << 20

// backlogLimits bound what a held source keeps: at most audio (the
// stream's own time, as its frames or pages say), and maxBacklogBytes.
type backlogLimits struct {
	audio time.Duration
}

// A backlog is what a held source has sent since its Icecast went away:
// the bytes from stream position start, and the points among them
// where a decoder can start. Beyond its limits it drops its oldest
// audio, up to a point.
type backlog struct {
	start  int64
	data   []byte
	points []audioframe.Point
	limits backlogLimits
	since  time.Time
}

// add appends p, the next bytes of the stream, and the points found
// since; it returns how many bytes it dropped to stay within bounds.
func (b *backlog) add(p []byte, points []audioframe.Point) int {
	b.data = append(b.data, p...)
	for _, pt := range points {
		if pt.Pos >= b.start {
			b.points = append(b.points, pt)
		}
	}
	dropped := 0
	for len(b.points) > 1 && (b.audio() > b.limits.audio || len(b.data) > maxBacklogBytes) {
		dropped += b.cut(b.points[1].Pos)
		b.points = b.points[1:]
	}
	if len(b.points) == 0 && len(b.data) > maxBacklogBytes {
		dropped += b.cut(b.start + int64(len(b.data)-maxBacklogBytes/2))
	}
	return dropped
}

// audio is how long the audio between the first and the last point
// plays.
func (b *backlog) audio() time.Duration {
	return b.points[len(b.points)-1].At - b.points[0].At
}

// cut drops the bytes before stream position pos, and returns how many.
func (b *backlog) cut(pos int64) int {
	n := int(pos - b.start)
	b.data = append(b.data[:0:0], b.data[n:]...)
	b.start = pos
	return n
}

// ready reports whether there is a point to replay the backlog from.
func (b *backlog) ready() bool { return len(b.points) > 0 }

// replay returns what to send a new Icecast: the header the first point
// needs, the bytes from it on, and how many bytes before it are dropped.
func (b *backlog) replay() (head, data []byte, dropped int) {
	pt := b.points[0]
	n := int(pt.Pos - b.start)
	return pt.Header, b.data[n:], n
}
