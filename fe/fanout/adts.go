package fanout

import "autoradio/internal/audioframe"

// adtsFraming joins AAC streams at a frame followed by another with the
// same ID, protection, profile, sampling frequency and channels. The
// longest ADTS frame is 8,191 bytes: two fit in its scan.
var adtsFraming = framing{
	headerLen: audioframe.ADTSHeaderLen,
	maxScan:   16 << 10,
	frameLen:  audioframe.ADTSLen,
	same: func(h, next []byte) bool {
		// Byte 2 without the private bit, the top of byte 3: the rest of
		// the channel configuration.
		return next[1] == h[1] && next[2]&^0x02 == h[2]&^0x02 && next[3]>>6 == h[3]>>6
	},
}
