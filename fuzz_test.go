package autoradio

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Mount records come from etcd, where anyone with access can write
// anything: decoding one never panics, and what it accepts is valid and
// survives a round trip.
func FuzzDecodeMount(f *testing.F) {
	f.Add("/icecast/mounts/live.ogg", []byte(`{"name":"/live.ogg","username":"u","password":"p"}`))
	f.Add("/icecast/mounts/t.mp3", []byte(`{"name":"/t.mp3","username":"u","password":"p","fallback":"/live.ogg","transcoding":{"source_name":"/live.ogg","codec":"mp3","bitrate":64,"samplerate":44100,"channels":2,"stereo_mode":"joint_stereo"}}`))
	f.Add("/icecast/mounts/r.mp3", []byte(`{"name":"/r.mp3","relay_url":"http://up.example.org:8000/s.mp3"}`))
	f.Add("/icecast/mounts/x", []byte(`{"name":"/x","transcoding":{"codec":"opus","quality":-0.5}}`))
	f.Add("/icecast/mounts/bad", []byte(`{not json`))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		m, err := DecodeMount(key, value)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("decoded an invalid mount %+v: %v", m, err)
		}
		if p, _ := MountPathFromKey(key); p != m.Name {
			t.Fatalf("mount %q decoded from key %q", m.Name, key)
		}
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeMount(key, data)
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, m)
		}
	})
}

// A path that passes validation is safe everywhere the cluster uses it:
// in etcd keys, Icecast's config and URLs.
func FuzzValidateMountPath(f *testing.F) {
	for _, s := range []string{"/live.ogg", "/a/b-c_d.mp3", "/../x", "//x", "/_stream/x", "/x.m3u", "/caf\u00e9", "/a/./b", "/" + strings.Repeat("a", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if ValidateMountPath(p) != nil {
			return
		}
		if len(p) > MaxMountPathLen || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "/_") ||
			strings.Contains(p, "//") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.HasSuffix(p, "/") {
			t.Fatalf("accepted %q", p)
		}
		for _, c := range []byte(p) {
			if !validPathByte(c) {
				t.Fatalf("accepted %q with byte %q", p, c)
			}
		}
		if back, ok := MountPathFromKey(MountKey(p)); !ok || back != p {
			t.Fatalf("key of %q reads back as %q", p, back)
		}
	})
}

// Relay URLs and credentials are checked before they reach Icecast's
// config and a source's Authorization header.
func FuzzMountValidate(f *testing.F) {
	f.Add("u", "p", "http://up.example.org:8000/s.mp3")
	f.Add("source", "p: q", "")
	f.Add("a:b", "p\nq", "http://[::1/s")
	f.Add("", "", "http://up:70000/s")
	f.Fuzz(func(t *testing.T, user, pass, relay string) {
		m := &Mount{Name: "/m", Username: user, Password: pass, RelayURL: relay}
		if m.Validate() != nil {
			return
		}
		if strings.ContainsAny(user, ": \t\r\n") || strings.ContainsAny(pass, "\r\n\x00") ||
			len(user) > MaxUsernameLen || len(pass) > MaxPasswordLen || len(relay) > MaxRelayURLLen {
			t.Fatalf("accepted credentials %q/%q, relay %q", user, pass, relay)
		}
		if relay != "" && !strings.HasPrefix(relay, "http://") {
			t.Fatalf("accepted relay URL %q", relay)
		}
	})
}
