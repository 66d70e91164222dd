package httpfe

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDechunker(t *testing.T) {
	huge := "fffffffffffffff\r\n" + strings.Repeat("a", 100) // a chunk far larger than memory
	cases := []struct {
		name, in, want string
		err            error // nil: io.EOF
	}{
		{"chunks and the last chunk", "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\n", "hello world", nil},
		{"hang-up between chunks", "5\r\nhello\r\n", "hello", nil},
		{"hang-up within a chunk", "a\r\nhello", "hello", nil},
		{"a huge chunk read through", huge, strings.Repeat("a", 100), nil},
		{"bad chunk size", "5\r\nhello\r\nzz\r\nmore", "hello", errBadChunk},
		{"chunk without its CRLF", "5\r\nhelloXX3\r\nabc\r\n", "hello", errBadChunk},
		{"chunk-size line too long", "5\r\nhello\r\n" + strings.Repeat("0", 8<<10) + "1\r\n", "hello", errBadChunk},
		{"chunk size beyond 64 bits", "11111111111111111\r\nx", "", errBadChunk},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// One byte a read: no chunk boundary may depend on how the
			// source's writes arrive.
			d := newDechunker(iotest.OneByteReader(strings.NewReader(c.in)))
			got, err := io.ReadAll(d)
			if string(got) != c.want {
				t.Errorf("read %q, want %q", got, c.want)
			}
			if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
				t.Errorf("error %v, want %v", err, c.err)
			}
		})
	}
}

// The connection's own errors (an idle deadline, a reset) end the source
// as they would an unchunked one.
func TestDechunkerPassesConnErrors(t *testing.T) {
	boom := errors.New("read deadline")
	d := newDechunker(io.MultiReader(strings.NewReader("5\r\nhel"), iotest.ErrReader(boom)))
	got, err := io.ReadAll(d)
	if string(got) != "hel" || !errors.Is(err, boom) || errors.Is(err, errBadChunk) {
		t.Errorf("read %q, %v; want %q, %v", got, err, "hel", boom)
	}
}
