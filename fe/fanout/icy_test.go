package fanout

import (
	"bytes"
	"slices"
	"testing"
)

// TestIcyTracker feeds a stream with metadata every 10 bytes, in pieces
// of every size, and checks the block starts it marks.
func TestIcyTracker(t *testing.T) {
	var stream []byte
	var want []int64
	for i, meta := range []string{"", "StreamTitle='a';", "", "StreamTitle='bc';"} {
		want = append(want, int64(len(stream)))
		stream = append(stream, bytes.Repeat([]byte{byte('0' + i)}, 10)...)
		padded := (len(meta) + 15) / 16 * 16
		stream = append(stream, byte(padded/16))
		stream = append(stream, meta...)
		stream = append(stream, make([]byte, padded-len(meta))...)
	}
	want = append(want, int64(len(stream)))
	for size := 1; size <= len(stream); size++ {
		tr := newIcyTracker(10)
		for at := 0; at < len(stream); at += size {
			end := min(at+size, len(stream))
			tr.observe(stream[at:end], int64(at), 0)
		}
		if !slices.Equal(tr.marks, want) {
			t.Fatalf("pieces of %d: marks %v, want %v", size, tr.marks, want)
		}
	}
	tr := newIcyTracker(10)
	tr.observe(stream, 0, want[2])
	if tr.marks[0] != want[2] {
		t.Errorf("marks before the window kept: %v", tr.marks)
	}
	if got := tr.joinPoint(want[2]+1, want[2]); got != want[3] {
		t.Errorf("joinPoint after block 2 = %d, want %d", got, want[3])
	}
}
