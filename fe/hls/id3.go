package hls

// tsOwner names the PRIV frame that carries a packed-audio segment's
// timestamp (RFC 8216, section 3.4).
const tsOwner = "com.apple.streaming.transportStreamTimestamp"

// ptsHz is the clock rate of MPEG-2 timestamps, which wrap at 33 bits.
const ptsHz = 90000

// timestampTag returns an ID3v2.4 tag holding the PRIV frame that stamps a
// segment with pts, a 33-bit 90 kHz timestamp.
func timestampTag(pts uint64) []byte {
	pts &= 1<<33 - 1
	body := append([]byte(tsOwner), 0)
	for i := 7; i >= 0; i-- {
		body = append(body, byte(pts>>(8*i)))
	}
	frame := append([]byte("PRIV"), syncsafe(len(body))...)
	frame = append(frame, 0, 0) // flags
	frame = append(frame, body...)
	tag := append([]byte{'I', 'D', '3', 4, 0, 0}, syncsafe(len(frame))...)
	return append(tag, frame...)
}

// syncsafe encodes n in four bytes of seven bits each.
func syncsafe(n int) []byte {
	return []byte{byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}
}
