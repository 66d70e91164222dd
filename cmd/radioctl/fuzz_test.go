package main

import "testing"

// restore reads files people edit by hand: parsing one never panics, and
// every mount it accepts is valid.
func FuzzParseBackup(f *testing.F) {
	f.Add([]byte("version: 1\nmounts:\n- name: /live.ogg\n  username: u\n  password: p\n"))
	f.Add([]byte("version: 1\nmounts:\n- name: /t.mp3\n  transcoding:\n    source_name: /live.ogg\n    codec: mp3\n    bitrate: 64\n"))
	f.Add([]byte("version: 2\nmounts: []\n"))
	f.Add([]byte("version: 1\nmounts:\n- null\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("version: 1\nmounts: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mounts, err := parseBackup(data)
		if err != nil {
			return
		}
		for _, m := range mounts {
			if err := m.Validate(); err != nil {
				t.Fatalf("accepted an invalid mount %+v: %v", m, err)
			}
		}
	})
}
