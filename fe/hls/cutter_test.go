package hls

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// mp3Frame is an MPEG-1 layer III frame of 128 kbit/s at 44.1 kHz (417
// bytes, 1,152 samples) whose payload holds its number n.
func mp3Frame(n int) []byte {
	f := make([]byte, 417)
	copy(f, []byte{0xff, 0xfb, 0x90, 0x64})
	binary.BigEndian.PutUint32(f[4:], uint32(n))
	return f
}

const frameDur = 1152 * time.Second / 44100

// node simulates a front-end cutting a live stream that it joins at frame
// from (after a burst of the burst frames before it, all arriving at
// once), receiving it late by latency; it returns its segments.
func node(t *testing.T, epoch time.Time, from, burst, to int, latency time.Duration) []*segment {
	var segs []*segment
	c := newCutter(formatMP3, 4*time.Second, func(s *segment) { segs = append(segs, s) })
	live := func(n int) time.Time { return epoch.Add(time.Duration(n) * frameDur).Add(latency) }
	var b []byte
	for n := from - burst; n < from; n++ {
		b = append(b, mp3Frame(n)...)
		if len(b) >= 16<<10 {
			c.take(b, live(from))
			b = nil
		}
	}
	c.take(b, live(from))
	for n := from; n < to; n += 10 {
		b = nil
		for i := n; i < n+10; i++ {
			b = append(b, mp3Frame(i)...)
		}
		// Reads come up to 80 ms late, and may end mid-frame.
		jitter := time.Duration(n*37%80) * time.Millisecond
		c.take(b[:len(b)-100], live(n+10).Add(jitter))
		c.take(b[len(b)-100:], live(n+10).Add(jitter+time.Millisecond))
	}
	return segs
}

// frameNumbers returns the numbers of the frames of a segment, checking
// that it starts with a timestamp tag and holds whole frames.
func frameNumbers(t *testing.T, s *segment) []int {
	tag := timestampTag(pts(s.start))
	if !bytes.HasPrefix(s.data, tag) {
		t.Fatalf("segment %d does not start with its timestamp tag", s.seq)
	}
	p := s.data[len(tag):]
	var ns []int
	for ; len(p) > 0; p = p[417:] {
		if len(p) < 417 || p[0] != 0xff {
			t.Fatalf("segment %d: not whole frames", s.seq)
		}
		ns = append(ns, int(binary.BigEndian.Uint32(p[4:])))
	}
	return ns
}

// TestCutter cuts the same live stream on two simulated nodes that join
// it at different times with different latencies: both cut segments at
// the boundaries of the target duration, consecutive, with the same
// numbers for nearly the same frames.
func TestCutter(t *testing.T) {
	epoch := time.Unix(1_800_000_000, 300_000_000)
	a := node(t, epoch, 500, 150, 2000, 20*time.Millisecond)
	b := node(t, epoch, 800, 150, 2000, 90*time.Millisecond)
	if len(a) < 10 || len(b) < 5 {
		t.Fatalf("%d and %d segments", len(a), len(b))
	}
	bySeq := map[int64][]int{}
	for i, s := range a {
		ns := frameNumbers(t, s)
		if i > 0 {
			if s.seq != a[i-1].seq+1 {
				t.Fatalf("segment %d follows %d", s.seq, a[i-1].seq)
			}
			if prev := frameNumbers(t, a[i-1]); ns[0] != prev[len(prev)-1]+1 {
				t.Errorf("segment %d starts at frame %d after %d", s.seq, ns[0], prev[len(prev)-1])
			}
			if s.dur < 4*time.Second-frameDur || s.dur > 4*time.Second+frameDur {
				t.Errorf("segment %d lasts %v", s.seq, s.dur)
			}
			if off := s.start.Sub(time.Unix(0, s.seq*int64(4*time.Second))); off < -maxGap || off > frameDur+maxGap {
				t.Errorf("segment %d starts %v after its boundary", s.seq, off)
			}
			if prev := a[i-1]; !s.start.Equal(prev.start.Add(prev.dur)) || s.disc {
				t.Errorf("segment %d starts at %v, after one that ends at %v", s.seq, s.start, prev.start.Add(prev.dur))
			}
		}
		bySeq[s.seq] = ns
	}
	for _, s := range b[1:] {
		ns := frameNumbers(t, s)
		other, ok := bySeq[s.seq]
		if !ok {
			t.Errorf("segment %d on one node only", s.seq)
			continue
		}
		if d := ns[0] - other[0]; d < -3 || d > 3 {
			t.Errorf("segment %d starts at frame %d on one node, %d on the other", s.seq, ns[0], other[0])
		}
	}
}

// TestTimestampTag checks the ID3 PRIV frame of a segment's timestamp.
func TestTimestampTag(t *testing.T) {
	tag := timestampTag(1<<33 + 0x123456789)
	want := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x3f"+"PRIV\x00\x00\x00\x35\x00\x00"+tsOwner+"\x00"),
		0, 0, 0, 1, 0x23, 0x45, 0x67, 0x89)
	if !bytes.Equal(tag, want) {
		t.Errorf("tag\n% x\nwant\n% x", tag, want)
	}
}

// TestCutterStall cuts a stream that stalls for 10 s: once the clock has
// seen the stall (after its window), the segments jump to the new live
// time, with numbers that follow that time, and timestamps that never go
// back.
func TestCutterStall(t *testing.T) {
	epoch := time.Unix(1_800_000_000, 0)
	var segs []*segment
	c := newCutter(formatMP3, 4*time.Second, func(s *segment) { segs = append(segs, s) })
	stall := 10 * time.Second
	for n := 0; n < 3000; n += 10 {
		var b []byte
		for i := n; i < n+10; i++ {
			b = append(b, mp3Frame(i)...)
		}
		at := epoch.Add(time.Duration(n+10) * frameDur)
		if n >= 1000 {
			at = at.Add(stall) // from frame 1000 on, everything comes 10 s late
		}
		c.take(b, at)
	}
	jumps := 0
	for i, s := range segs[1:] {
		prev := segs[i]
		if s.start.Before(prev.start.Add(prev.dur)) {
			t.Errorf("segment %d starts before the end of %d", s.seq, prev.seq)
		}
		if s.seq != prev.seq+1 {
			jumps++
			if d := time.Duration(s.seq-prev.seq-1) * 4 * time.Second; d < stall-8*time.Second || d > stall {
				t.Errorf("segments jump from %d to %d for a stall of %v", prev.seq, s.seq, stall)
			}
		}
	}
	last := segs[len(segs)-1]
	if jumps != 1 || last.seq != last.start.UnixNano()/int64(4*time.Second) {
		t.Errorf("%d jumps; last segment %d starts at %v", jumps, last.seq, last.start)
	}
}
