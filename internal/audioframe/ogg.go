package audioframe

import "encoding/binary"

// More of the Ogg page header (RFC 3533).
const (
	OggContinued = 0x01 // flag: the page's first packet began on an earlier page
	oggCRCField  = 22   // offset of the 4-byte CRC
)

// oggMaxHeaders bounds the header pages of one logical stream held in
// memory (Vorbis's setup header is a few KiB).
const oggMaxHeaders = 256 << 10

// OggCRCOK checks the CRC of the whole page p (polynomial 0x04c11db7,
// computed with the CRC field as zeros).
func OggCRCOK(p []byte) bool {
	return len(p) >= OggHeaderLen && OggCRC(p) == binary.LittleEndian.Uint32(p[oggCRCField:])
}

// OggCRC computes the CRC of the whole page p, as if its CRC field held
// zeros; p must hold at least the page header.
func OggCRC(p []byte) uint32 {
	var crc uint32
	for i, b := range p {
		if i >= oggCRCField && i < oggCRCField+4 {
			b = 0
		}
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^b]
	}
	return crc
}

var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// OggHeaders collects the header pages of an Ogg stream, page by page:
// a beginning-of-stream page and the pages after it that end no audio
// packet (granule position 0, or -1 while a header spans pages). A
// decoder that joins the stream later needs them first. A chained stream
// starts a new set at each link. The zero value is ready to use.
type OggHeaders struct {
	collecting []byte
	inHeaders  bool
	current    []byte // the current link's header pages; never modified
}

// Page takes note of the next whole page p and says whether a decoder
// can start at it, and with which header pages first: an audio page that
// begins a packet needs the current link's headers; the first page of a
// new link needs none, as its headers follow it. join is false for the
// other pages, and for audio pages of a link whose headers were not seen.
func (h *OggHeaders) Page(p []byte) (join bool, header []byte) {
	flags := p[5]
	granule := int64(binary.LittleEndian.Uint64(p[6:14]))
	switch {
	case flags&OggBOS != 0:
		first := !h.inHeaders
		if first {
			h.collecting, h.inHeaders = nil, true
		}
		h.collect(p)
		return first, nil
	case h.inHeaders && (granule == 0 || granule == -1):
		h.collect(p)
		return false, nil
	}
	if h.inHeaders {
		h.current, h.collecting, h.inHeaders = h.collecting, nil, false
	}
	return flags&OggContinued == 0 && h.current != nil, h.current
}

// Current returns the header pages of the current link (nil: none seen
// whole yet). The caller must not modify them.
func (h *OggHeaders) Current() []byte { return h.current }

func (h *OggHeaders) collect(p []byte) {
	if len(h.collecting)+len(p) > oggMaxHeaders {
		h.collecting, h.inHeaders = nil, false // not a stream it understands
		return
	}
	h.collecting = append(h.collecting, p...)
}
