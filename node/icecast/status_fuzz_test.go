package icecast

import (
	"strings"
	"testing"
)

// statusWithTitle is the JSON the status stylesheet writes for one mount
// whose title Icecast holds as title: quotes and backslashes escaped,
// tabs and line breaks turned into spaces, everything else as it is.
func statusWithTitle(title string) []byte {
	title = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(title)
	title = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(title)
	return []byte(`{"server_id":"Icecast 2.4.4","location":"autoradio node n1, config 7","mounts":[` +
		`{"mount":"/a.mp3","listeners":1,"source_connected":true,"bitrate_kbps":128,"title":"` + title + `"}]}` + "\n")
}

// No title a source sends can make the status unreadable, and the status
// still says what it said about the mount.
func FuzzStatusTitle(f *testing.F) {
	f.Add("Bob - He said \"hi\" \\o/")
	f.Add("a\x01b\x1f\x7f")
	f.Add("\xff\xfe\xc3")
	f.Add("\\\"\\")
	f.Fuzz(func(t *testing.T, title string) {
		if strings.ContainsRune(title, 0) {
			return // Icecast's C strings end there
		}
		st, err := ParseStatus(statusWithTitle(title))
		if err != nil {
			t.Fatalf("title %q: %v", title, err)
		}
		m, ok := st.Mount("/a.mp3")
		if !ok || !m.SourceConnected || m.Listeners != 1 || st.ConfigID() != 7 {
			t.Fatalf("title %q: status %+v", title, st)
		}
	})
}

// Whatever Icecast answers, parsing it never panics.
func FuzzParseStatus(f *testing.F) {
	f.Add(statusWithTitle("x"))
	f.Add([]byte(`{"server_id":"Icecast 2.4.4","mounts":[]}`))
	f.Add([]byte(`<html>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseStatus(data)
		if err != nil {
			return
		}
		for _, m := range st.Mounts {
			if !strings.HasPrefix(m.Mount, "/") || m.Listeners < 0 {
				t.Fatalf("accepted mount entry %+v", m)
			}
		}
	})
}
