package fanout

// ADTS (ISO/IEC 13818-7 and 14496-3) frames AAC for streaming: each frame
// starts with a 7-byte header (9 with a CRC), whose bits are
//
//	syncword 12 (0xFFF), ID 1, layer 2 (00), protection_absent 1,
//	profile 2, sampling_frequency_index 4, private 1, channel_configuration 3,
//	original 1, home 1, copyright bits 2, frame_length 13 (header included),
//	buffer_fullness 11, raw_data_blocks 2.
const adtsHeaderLen = 7

// adtsFrameLen returns the length of the ADTS frame whose header starts
// h, or 0 when h is not a valid frame header.
func adtsFrameLen(h []byte) int {
	if len(h) < adtsHeaderLen || h[0] != 0xFF || h[1]&0xF0 != 0xF0 {
		return 0
	}
	layer, freq := h[1]>>1&3, h[2]>>2&0xF
	if layer != 0 || freq > 12 { // 13 and 14 are reserved, 15 (explicit) is not for ADTS
		return 0
	}
	least := adtsHeaderLen
	if h[1]&1 == 0 {
		least += 2 // protection_absent 0: a CRC follows the header
	}
	n := int(h[3]&3)<<11 | int(h[4])<<3 | int(h[5]>>5)
	if n <= least {
		return 0 // no room for audio
	}
	return n
}

// adtsFraming joins AAC streams at a frame followed by another with the
// same ID, protection, profile, sampling frequency and channels. The
// longest ADTS frame is 8,191 bytes: two fit in its scan.
var adtsFraming = framing{
	headerLen: adtsHeaderLen,
	maxScan:   16 << 10,
	frameLen:  adtsFrameLen,
	same: func(h, next []byte) bool {
		// Byte 2 without the private bit, the top of byte 3: the rest of
		// the channel configuration.
		return next[1] == h[1] && next[2]&^0x02 == h[2]&^0x02 && next[3]>>6 == h[3]>>6
	},
}
