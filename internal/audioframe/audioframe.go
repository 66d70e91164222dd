// Package audioframe reads the framing of the streamed audio formats
// (MP3, ADTS AAC, Ogg): where each frame or page ends and how much audio
// it carries. It parses headers only and decodes nothing.
package audioframe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// MPEG audio layer III bit rates (kbit/s) by index, and sample rates of
// MPEG-1 (halved for MPEG-2, quartered for MPEG-2.5).
var (
	mp3V1Rates     = [15]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
	mp3V2Rates     = [15]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
	mp3SampleRates = [3]int{44100, 48000, 32000}
)

// Frame is one frame's length in bytes and the audio it carries.
type Frame struct {
	Len        int
	Samples    int // per channel
	SampleRate int
}

// Duration is how long the frame plays.
func (f Frame) Duration() time.Duration {
	return time.Duration(f.Samples) * time.Second / time.Duration(f.SampleRate)
}

// MP3 reads the MP3 (MPEG layer III) frame header h; ok is false when h is
// not a valid one.
func MP3(h [4]byte) (f Frame, ok bool) {
	if h[0] != 0xFF || h[1]&0xE0 != 0xE0 {
		return Frame{}, false
	}
	version, layer := h[1]>>3&3, h[1]>>1&3 // version 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5; layer 1: III
	bi, si, pad := int(h[2]>>4), int(h[2]>>2&3), int(h[2]>>1&1)
	if version == 1 || layer != 1 || bi == 0 || bi == 15 || si == 3 {
		return Frame{}, false
	}
	if version == 3 {
		rate := mp3SampleRates[si]
		return Frame{Len: 144*mp3V1Rates[bi]*1000/rate + pad, Samples: 1152, SampleRate: rate}, true
	}
	rate := mp3SampleRates[si] / 2
	if version == 0 {
		rate /= 2
	}
	return Frame{Len: 72*mp3V2Rates[bi]*1000/rate + pad, Samples: 576, SampleRate: rate}, true
}

// MP3Len returns the length of the MP3 frame whose header is h, or 0 when
// h is not a valid frame header.
func MP3Len(h [4]byte) int {
	f, _ := MP3(h)
	return f.Len
}

// ADTS (ISO/IEC 13818-7 and 14496-3) frames AAC for streaming: each frame
// starts with a 7-byte header (9 with a CRC), whose bits are
//
//	syncword 12 (0xFFF), ID 1, layer 2 (00), protection_absent 1,
//	profile 2, sampling_frequency_index 4, private 1, channel_configuration 3,
//	original 1, home 1, copyright bits 2, frame_length 13 (header included),
//	buffer_fullness 11, raw_data_blocks 2.
const ADTSHeaderLen = 7

var adtsSampleRates = [13]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// ADTS reads the ADTS frame header at the start of h; ok is false when h
// is not a valid one.
func ADTS(h []byte) (f Frame, ok bool) {
	if len(h) < ADTSHeaderLen || h[0] != 0xFF || h[1]&0xF0 != 0xF0 {
		return Frame{}, false
	}
	layer, freq := h[1]>>1&3, h[2]>>2&0xF
	if layer != 0 || freq > 12 { // 13 and 14 are reserved, 15 (explicit) is not for ADTS
		return Frame{}, false
	}
	least := ADTSHeaderLen
	if h[1]&1 == 0 {
		least += 2 // protection_absent 0: a CRC follows the header
	}
	n := int(h[3]&3)<<11 | int(h[4])<<3 | int(h[5]>>5)
	if n <= least {
		return Frame{}, false // no room for audio
	}
	blocks := int(h[6]&3) + 1
	return Frame{Len: n, Samples: 1024 * blocks, SampleRate: adtsSampleRates[freq]}, true
}

// ADTSLen returns the length of the ADTS frame whose header starts h, or
// 0 when h is not a valid frame header.
func ADTSLen(h []byte) int {
	f, _ := ADTS(h)
	return f.Len
}

// Ogg page header: "OggS", version, flags, granule position (8 bytes),
// serial, sequence, CRC (4 bytes each), segment count, segment table.
const (
	OggHeaderLen = 27
	OggBOS       = 0x02 // flag: first page of a logical stream
)

// OggMagic starts every Ogg page.
var OggMagic = []byte("OggS")

// OggPageLen returns the length of the Ogg page at the start of p, or 0
// when p does not start with a whole page header and segment table.
func OggPageLen(p []byte) int {
	if len(p) < OggHeaderLen || !bytes.HasPrefix(p, OggMagic) || p[4] != 0 {
		return 0
	}
	segs := int(p[26])
	if len(p) < OggHeaderLen+segs {
		return 0
	}
	n := OggHeaderLen + segs
	for _, s := range p[OggHeaderLen : OggHeaderLen+segs] {
		n += int(s)
	}
	return n
}

// Mark is a point of a stream: the audio before byte End plays for At.
type Mark struct {
	End int
	At  time.Duration
}

// Timeline returns, for a whole MP3, ADTS or Ogg (Vorbis or Opus) stream
// in data, the end of each frame or page with the time the audio up to it
// plays for. A chained Ogg stream's links play one after the other. Junk
// or a cut frame is an error: Timeline is for files it can trust, such as
// ones ffmpeg wrote.
func Timeline(data []byte) ([]Mark, error) {
	if bytes.HasPrefix(data, OggMagic) {
		return oggTimeline(data)
	}
	var marks []Mark
	var at time.Duration
	for off := 0; off < len(data); {
		var f Frame
		var ok bool
		if len(data)-off >= 4 {
			if f, ok = MP3([4]byte(data[off:])); !ok {
				f, ok = ADTS(data[off:])
			}
		}
		if !ok || off+f.Len > len(data) {
			return nil, fmt.Errorf("audioframe: no whole MP3 or ADTS frame at byte %d", off)
		}
		off += f.Len
		at += f.Duration()
		marks = append(marks, Mark{End: off, At: at})
	}
	if len(marks) == 0 {
		return nil, errors.New("audioframe: no audio")
	}
	return marks, nil
}

// oggTimeline: the granule position of an audio page counts the samples
// of its link up to the page's end; a link's first page says the rate
// (Opus always counts at 48 kHz).
func oggTimeline(data []byte) ([]Mark, error) {
	var marks []Mark
	var base, at time.Duration // base: where the current link starts
	rate := 0
	for off := 0; off < len(data); {
		n := OggPageLen(data[off:])
		if n == 0 || off+n > len(data) {
			return nil, fmt.Errorf("audioframe: no whole Ogg page at byte %d", off)
		}
		page := data[off : off+n]
		body := page[OggHeaderLen+int(page[26]):]
		if page[5]&OggBOS != 0 {
			base = at
			if rate = oggRate(body); rate == 0 {
				return nil, fmt.Errorf("audioframe: Ogg stream at byte %d is neither Vorbis nor Opus", off)
			}
		}
		if g := int64(binary.LittleEndian.Uint64(page[6:14])); g > 0 && rate > 0 {
			at = max(at, base+time.Duration(g)*time.Second/time.Duration(rate))
		}
		off += n
		marks = append(marks, Mark{End: off, At: at})
	}
	if at == 0 {
		return nil, errors.New("audioframe: no audio")
	}
	return marks, nil
}

// oggRate returns the sample rate that the granule positions of a
// logical stream count in, from its first packet; 0 when unknown.
func oggRate(first []byte) int {
	switch {
	case bytes.HasPrefix(first, []byte("\x01vorbis")) && len(first) >= 16:
		return int(binary.LittleEndian.Uint32(first[12:16]))
	case bytes.HasPrefix(first, []byte("OpusHead")):
		return 48000
	}
	return 0
}
