package dns

import (
	"encoding/binary"

	mdns "github.com/miekg/dns"
)

// wireQuery is what the fast path reads of a UDP query: the header, the
// question and the OPT record, without allocating. Anything it does not
// read plainly (compression in the question, several records, EDNS
// options other than the harmless ones, trailing bytes) makes parse fail,
// and the query takes the general path.
type wireQuery struct {
	id, flags    uint16
	qnameEnd     int // the question name is req[headerLen:qnameEnd]
	qEnd         int // end of the question section
	qtype        uint16
	edns, do     bool
	udpSize      uint16
	lower        [maxNameLen]byte // the name, lower case
	labelStarts  [128]uint8       // offsets of the labels in lower
	labels       int
	hostnameOnly bool // every label is [a-z0-9-]
}

// Header bits the reply copies from a query, as miekg/dns's SetReply does.
const (
	flagQR     = 1 << 15
	flagRD     = 1 << 8
	flagCD     = 1 << 4
	opcodeMask = 0xf << 11
)

// parse reads req; false sends it to the general path.
func (q *wireQuery) parse(req []byte) bool {
	if len(req) < headerLen {
		return false
	}
	q.id = binary.BigEndian.Uint16(req)
	q.flags = binary.BigEndian.Uint16(req[2:])
	qd, an, ns, ar := binary.BigEndian.Uint16(req[4:]), binary.BigEndian.Uint16(req[6:]), binary.BigEndian.Uint16(req[8:]), binary.BigEndian.Uint16(req[10:])
	if q.flags&(flagQR|opcodeMask) != 0 || qd != 1 || an != 0 || ns != 0 || ar > 1 {
		return false
	}
	off, ok := q.parseName(req)
	if !ok || off+4 > len(req) {
		return false
	}
	q.qnameEnd = off
	q.qtype = binary.BigEndian.Uint16(req[off:])
	if binary.BigEndian.Uint16(req[off+2:]) != mdns.ClassINET {
		return false
	}
	q.qEnd = off + 4
	q.edns, q.do = false, false
	if ar == 0 {
		return q.qEnd == len(req)
	}
	return q.parseOPT(req[q.qEnd:])
}

// parseName reads the question name into q.lower, returning the offset
// after it. Compression pointers make it fail.
func (q *wireQuery) parseName(req []byte) (int, bool) {
	off, n := headerLen, 0
	q.labels, q.hostnameOnly = 0, true
	for {
		if off >= len(req) {
			return 0, false
		}
		l := int(req[off])
		if l == 0 {
			if n+1 > len(q.lower) {
				return 0, false
			}
			q.lower[n] = 0
			return off + 1, true
		}
		if l > 63 || off+1+l > len(req) || n+1+l+1 > len(q.lower) || q.labels == len(q.labelStarts) {
			return 0, false
		}
		q.labelStarts[q.labels] = uint8(n)
		q.labels++
		q.lower[n] = byte(l)
		for i, c := range req[off+1 : off+1+l] {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				q.hostnameOnly = false
			}
			q.lower[n+1+i] = c
		}
		n += 1 + l
		off += 1 + l
	}
}

// name is the lower-case wire-format question name.
func (q *wireQuery) name() []byte { return q.lower[:q.qnameEnd-headerLen] }

// parseOPT reads the OPT record, the request's last bytes. Options other
// than the cookie, NSID and padding (which miekg/dns reads without
// checking their content) send the query to the general path.
func (q *wireQuery) parseOPT(b []byte) bool {
	if len(b) < 11 || b[0] != 0 || binary.BigEndian.Uint16(b[1:]) != mdns.TypeOPT {
		return false
	}
	q.udpSize = binary.BigEndian.Uint16(b[3:])
	extRcode, version, flags := b[5], b[6], binary.BigEndian.Uint16(b[7:])
	if extRcode != 0 || version != 0 {
		return false
	}
	rdlen := int(binary.BigEndian.Uint16(b[9:]))
	opts := b[11:]
	if len(opts) != rdlen {
		return false
	}
	for len(opts) > 0 {
		if len(opts) < 4 {
			return false
		}
		code, l := binary.BigEndian.Uint16(opts), int(binary.BigEndian.Uint16(opts[2:]))
		if l > len(opts)-4 || (code != mdns.EDNS0COOKIE && code != mdns.EDNS0NSID && code != mdns.EDNS0PADDING) {
			return false
		}
		opts = opts[4+l:]
	}
	q.edns, q.do = true, flags&0x8000 != 0
	return true
}

// maxNameLen is the longest name in wire format (RFC 1035).
const maxNameLen = 255
