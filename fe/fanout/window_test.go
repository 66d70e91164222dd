package fanout

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

// fill writes data into w as a feed would.
func fill(w *window, data []byte) {
	for len(data) > 0 {
		n := copy(w.space(), data)
		w.publish(data[:n])
		data = data[n:]
	}
}

// TestWindow writes 5 chunks into a window of 4: a reader gets the data
// a chunk at most at a time, errSlow once its position has left the
// window, and io.EOF at the end of a finished stream.
func TestWindow(t *testing.T) {
	const size = 8
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyzABCD")
	w := newWindow(4, size)
	fill(&w, data)
	if w.base != size || w.end != int64(len(data)) {
		t.Fatalf("base %d end %d, want %d and %d", w.base, w.end, size, len(data))
	}
	ctx := context.Background()
	if _, err := w.next(ctx, size-1); !errors.Is(err, errSlow) {
		t.Errorf("next before the window: %v, want errSlow", err)
	}
	w.finish()
	var got []byte
	for pos := int64(size + 3); ; {
		p, err := w.next(ctx, pos)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || len(p) == 0 || len(p) > size {
			t.Fatalf("next(%d) = %q, %v", pos, p, err)
		}
		got = append(got, p...)
		pos += int64(len(p))
	}
	if !bytes.Equal(got, data[size+3:]) {
		t.Errorf("read %q, want %q", got, data[size+3:])
	}
	if pos, _, err := w.start(context.Background(), 10); err != nil || pos != int64(len(data))-10 {
		t.Errorf("raw start with a burst of 10 = %d, want %d", pos, len(data)-10)
	}
}

// TestWindowWait checks that a reader at the end waits for data, and
// gives up when its context ends.
func TestWindowWait(t *testing.T) {
	w := newWindow(2, 8)
	got := make(chan []byte)
	go func() {
		p, _ := w.next(context.Background(), 0)
		got <- p
	}()
	fill(&w, []byte("abc"))
	if p := <-got; string(p) != "abc" {
		t.Errorf("waiting reader got %q", p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.next(ctx, 3); !errors.Is(err, context.Canceled) {
		t.Errorf("next with a done context: %v", err)
	}
}
