package fanout

// MPEG audio layer III bit rates (kbit/s) by index, and sample rates of
// MPEG-1 (halved for MPEG-2, quartered for MPEG-2.5).
var (
	mp3V1Rates     = [15]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
	mp3V2Rates     = [15]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
	mp3SampleRates = [3]int{44100, 48000, 32000}
)

// mp3FrameLen returns the length of the MP3 (MPEG layer III) frame whose
// header is h, or 0 when h is not a valid frame header.
func mp3FrameLen(h [4]byte) int {
	if h[0] != 0xFF || h[1]&0xE0 != 0xE0 {
		return 0
	}
	version, layer := h[1]>>3&3, h[1]>>1&3 // version 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5; layer 1: III
	bi, si, pad := int(h[2]>>4), int(h[2]>>2&3), int(h[2]>>1&1)
	if version == 1 || layer != 1 || bi == 0 || bi == 15 || si == 3 {
		return 0
	}
	if version == 3 {
		return 144*mp3V1Rates[bi]*1000/mp3SampleRates[si] + pad
	}
	rate := mp3SampleRates[si] / 2
	if version == 0 {
		rate /= 2
	}
	return 72*mp3V2Rates[bi]*1000/rate + pad
}

// mp3Framing joins MP3 streams at a frame followed by another of the same
// version, layer and protection; two of the longest frames (1,441 bytes)
// fit in its scan.
var mp3Framing = framing{
	headerLen: 4,
	maxScan:   4 << 10,
	frameLen:  func(h []byte) int { return mp3FrameLen([4]byte(h)) },
	same:      func(h, next []byte) bool { return next[1] == h[1] },
}
