package fanout

import "testing"

func TestKindOf(t *testing.T) {
	for ct, want := range map[string]streamKind{
		"application/ogg": kindOgg, "audio/ogg; codecs=opus": kindOgg, "audio/mpeg": kindMP3,
		"audio/aacp": kindADTS, "audio/aac": kindADTS, "": kindRaw,
	} {
		if got := kindOf(ct); got != want {
			t.Errorf("kindOf(%q) = %v, want %v", ct, got, want)
		}
	}
}

// joinCase is a stream, where a listener asks to join it, and where it
// should: told is false when the window ends before it can tell.
type joinCase struct {
	name   string
	stream []byte
	from   int64
	want   int64
	told   bool
}

// checkJoins runs the join cases of a framing, each in a window of its own.
func checkJoins(t *testing.T, f framing, cases []joinCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWindow(4, 16<<10)
			fill(&w, c.stream)
			w.mu.RLock()
			defer w.mu.RUnlock()
			if got, _, told := f.start(&w, c.from); got != c.want || told != c.told {
				t.Errorf("join from %d = %d, %v; want %d, %v", c.from, got, told, c.want, c.told)
			}
		})
	}
}
