package fanout

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// icyStream returns a stream with metadata every 10 bytes, one block per
// entry of metas (empty: an empty block), and where each block starts.
func icyStream(metas ...string) (stream []byte, starts []int64) {
	for i, meta := range metas {
		starts = append(starts, int64(len(stream)))
		stream = append(stream, bytes.Repeat([]byte{byte('0' + i%10)}, 10)...)
		padded := (len(meta) + 15) / 16 * 16
		stream = append(stream, byte(padded/16))
		stream = append(stream, meta...)
		stream = append(stream, make([]byte, padded-len(meta))...)
	}
	return stream, append(starts, int64(len(stream)))
}

// TestIcyTracker feeds a stream with metadata every 10 bytes, in pieces
// of every size, and checks the block starts and titles it keeps.
func TestIcyTracker(t *testing.T) {
	stream, want := icyStream("", "StreamTitle='a';", "", "StreamTitle='bc';")
	for size := 1; size <= len(stream); size++ {
		tr := newIcyTracker(10)
		for at := 0; at < len(stream); at += size {
			end := min(at+size, len(stream))
			tr.observe(stream[at:end], int64(at), 0)
		}
		if !slices.Equal(tr.marks, want) {
			t.Fatalf("pieces of %d: marks %v, want %v", size, tr.marks, want)
		}
		if got := string(tr.titleBefore(want[2])); got != "\x01StreamTitle='a';" {
			t.Fatalf("pieces of %d: title before block 2 %q", size, got)
		}
	}
	tr := newIcyTracker(10)
	tr.observe(stream, 0, want[2])
	if tr.marks[0] != want[2] {
		t.Errorf("marks before the window kept: %v", tr.marks)
	}
	if len(tr.titles) != 2 {
		t.Errorf("titles %v: want the one current at the window's start, and the one after", tr.titles)
	}
	if got, ok := tr.joinPoint(want[2]+1, want[2], int64(len(stream))); !ok || got != want[3] {
		t.Errorf("joinPoint after block 2 = %d, want %d", got, want[3])
	}
	if got, _ := tr.joinPoint(want[3]+1, want[2], int64(len(stream))); got != want[3] {
		t.Errorf("joinPoint after the last whole block = %d, want the last whole block, %d", got, want[3])
	}
}

// TestIcyLateListener has listeners join a stream whose title was sent
// once, long before: each one's first metadata block must carry it, and
// the blocks after it must follow at the interval.
func TestIcyLateListener(t *testing.T) {
	metas := []string{"", "StreamTitle='old';", "", "StreamTitle='now';"}
	for range 40 {
		metas = append(metas, "")
	}
	stream, starts := icyStream(metas...)
	w := newWindow(8, 64)
	w.join = newIcyTracker(10)
	fill(&w, stream)
	for _, burst := range []int{11, 40, 100, int(w.end - w.base)} {
		t.Run(fmt.Sprint("burst ", burst), func(t *testing.T) {
			pos, first, _ := w.start(context.Background(), burst)
			got := append(slices.Clone(first), stream[pos:]...)
			blocks, err := icyBlocks(got, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(blocks) == 0 || blocks[0] != "StreamTitle='now';" {
				t.Fatalf("joined at %d: blocks %q, want the current title first", pos, blocks)
			}
			if slices.Contains(blocks[1:], "StreamTitle='now';") {
				t.Errorf("blocks %q: the title twice", blocks)
			}
		})
	}
	// A listener joining at the block that changes the title gets it as
	// it is, once.
	w2 := newWindow(8, 64)
	w2.join = newIcyTracker(10)
	fill(&w2, stream[:starts[4]+5])
	pos, first, _ := w2.start(context.Background(), int(w2.end-starts[3]))
	if pos != starts[3] || first != nil {
		t.Errorf("joining at the title change: %d, %q; want %d and nothing first", pos, first, starts[3])
	}
}

// icyBlocks returns the metadata blocks of data, which starts at a block
// start, with padding removed.
func icyBlocks(data []byte, metaint int) ([]string, error) {
	var out []string
	for len(data) > metaint {
		data = data[metaint:]
		n := 1 + 16*int(data[0])
		if n > len(data) {
			return nil, fmt.Errorf("block %d cut: %d bytes of %d", len(out), len(data), n)
		}
		m := strings.TrimRight(string(data[1:n]), "\x00")
		if m != "" && !strings.HasPrefix(m, "StreamTitle=") {
			return nil, fmt.Errorf("block %d is %q: not at a block start", len(out), m)
		}
		out = append(out, m)
		data = data[n:]
	}
	return out, nil
}
