package fanout

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
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

// TestWindowStartWaits checks that a listener that comes before the data
// that tells where it may join (a feed's first listener) waits for it, and
// that one whose stream ends first starts where it came.
func TestWindowStartWaits(t *testing.T) {
	type started struct {
		pos int64
		err error
	}
	run := func(w *window) <-chan started {
		c := make(chan started, 1)
		go func() {
			pos, _, err := w.start(context.Background(), 64<<10)
			c <- started{pos, err}
		}()
		return c
	}
	junk := []byte{1, 2, 3, 0xFF, 0xFB, 0x90}
	t.Run("the first frame", func(t *testing.T) {
		w := newWindow(4, 1<<10)
		w.join = mp3Framing
		c := run(&w)
		// Junk, then a frame whose successor has not come yet: no
		// decision.
		fill(&w, append(slices.Clone(junk), mp3Frame()...))
		select {
		case s := <-c:
			t.Fatalf("started at %d before the frame was confirmed", s.pos)
		default:
		}
		fill(&w, mp3Frame())
		if s := <-c; s.err != nil || s.pos != int64(len(junk)) {
			t.Errorf("started at %d, %v; want at the first frame, %d", s.pos, s.err, len(junk))
		}
	})
	t.Run("the stream ends first", func(t *testing.T) {
		w := newWindow(4, 1<<10)
		w.join = mp3Framing
		c := run(&w)
		fill(&w, junk)
		w.finish()
		if s := <-c; s.err != nil || s.pos != 0 {
			t.Errorf("started at %d, %v; want 0", s.pos, s.err)
		}
	})
	t.Run("the listener leaves", func(t *testing.T) {
		w := newWindow(4, 1<<10)
		w.join = mp3Framing
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := w.start(ctx, 0); !errors.Is(err, context.Canceled) {
			t.Errorf("start with a done context: %v", err)
		}
	})
}
