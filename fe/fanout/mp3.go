package fanout

import "autoradio/internal/audioframe"

// mp3Framing joins MP3 streams at a frame followed by another of the same
// version, layer and protection; two of the longest frames (1,441 bytes)
// fit in its scan.
var mp3Framing = framing{
	headerLen: 4,
	maxScan:   4 << 10,
	frameLen:  func(h []byte) int { return audioframe.MP3Len([4]byte(h)) },
	same:      func(h, next []byte) bool { return next[1] == h[1] },
}
