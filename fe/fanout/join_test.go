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
