package icecast

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"autoradio"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The fixtures were captured from icecast2 2.4.4: a master with a live
// source (the title has quotes and a backslash) and one listener, which is
// the relay of the second node; that relay node with one working relay and
// two whose mounts had no source on the master. The master's location,
// with its config ID, was added when the stylesheet began to show it; the
// relay node's is from before that.
func TestParseStatusFixtures(t *testing.T) {
	master, err := ParseStatus(readFixture(t, "status-master.json"))
	if err != nil {
		t.Fatal(err)
	}
	if id := master.ConfigID(); id != 3 {
		t.Errorf("master config ID = %d, want 3", id)
	}
	want := []MountStat{{Mount: "/test.ogg", Listeners: 1, SourceConnected: true, BitrateKbps: 80, Title: `Bob - He said "hi" \o/`}}
	if !reflect.DeepEqual(master.Mounts, want) {
		t.Errorf("master mounts = %+v, want %+v", master.Mounts, want)
	}
	relay, err := ParseStatus(readFixture(t, "status-relay.json"))
	if err != nil {
		t.Fatal(err)
	}
	if id := relay.ConfigID(); id != 0 {
		t.Errorf("relay config ID = %d, want 0 (no location)", id)
	}
	got := relay.MountStatuses([]string{"/fb.ogg", "/test.ogg", "/missing.ogg"})
	wantStatus := []autoradio.MountStatus{
		{Name: "/fb.ogg"},
		{Name: "/test.ogg", SourceConnected: true, BitrateKbps: 80, Title: `Bob - He said "hi" \o/`},
		{Name: "/missing.ogg"},
	}
	if !reflect.DeepEqual(got, wantStatus) {
		t.Errorf("relay statuses = %+v, want %+v", got, wantStatus)
	}
}

func TestParseStatusErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not json":       `<html>`,
		"not icecast":    `{"server_id":"nginx","mounts":[]}`,
		"bad mount":      `{"server_id":"Icecast 2.4.4","mounts":[{"mount":"x"}]}`,
		"negative count": `{"server_id":"Icecast 2.4.4","mounts":[{"mount":"/x","listeners":-1}]}`,
	} {
		if _, err := ParseStatus([]byte(in)); !errors.Is(err, ErrUnreadableStatus) {
			t.Errorf("%s: error %v, want ErrUnreadableStatus", name, err)
		}
	}
}

// Icecast passes a title's control characters on raw, as the stylesheet
// cannot escape them: they become spaces, and invalid UTF-8 U+FFFD.
func TestParseStatusTitleBytes(t *testing.T) {
	var title []byte
	for c := byte(0); c < 0x20; c++ {
		title = append(title, c)
	}
	title = append(title, 0x7f, 0xff, 0xfe, 0xc3)
	in := `{"server_id":"Icecast 2.4.4","location":"","mounts":[{"mount":"/x.mp3","listeners":2,"source_connected":true,"bitrate_kbps":128,"title":"` +
		string(title) + `"}]}` + "\n"
	st, err := ParseStatus([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat(" ", 32) + "\x7f\ufffd\ufffd\ufffd"
	if got := st.Mounts[0]; got.Title != want || got.Listeners != 2 || !got.SourceConnected {
		t.Errorf("mount %+v: want title %q, 2 listeners and a source", got, want)
	}
}

// Captured from icecast2 2.4.4 with <charset>UTF-8</charset> on the
// mount, after an update with charset=UTF-8: the stylesheet writes the
// title's characters as they are. A title is text: markup and character
// references in it are the source's own and stay as they are.
func TestParseStatusTitleText(t *testing.T) {
	st, err := ParseStatus(readFixture(t, "status-utf8.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := `Café ♫ <b>&#9835;</b> "q" \ 日本`
	if m, _ := st.Mount("/t.mp3"); m.Title != want {
		t.Errorf("title %q, want %q", m.Title, want)
	}
}

func TestMountStatusesExcludeRelays(t *testing.T) {
	st := &Status{Mounts: []MountStat{{Mount: "/a", Listeners: 5, Relays: 2, SourceConnected: true}}}
	got := st.MountStatuses([]string{"/a"})
	if got[0].Listeners != 3 {
		t.Errorf("listeners = %d, want 3", got[0].Listeners)
	}
}

func TestParseListClients(t *testing.T) {
	n, err := ParseListClients(readFixture(t, "listclients-master.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("relays = %d, want 1 (one Icecast relay, one browser)", n)
	}
	if _, err := ParseListClients([]byte(`<html><body>400 - Source does not exist</body></html>`)); err == nil {
		t.Error("no error for an error page")
	}
}

func BenchmarkParseStatus(b *testing.B) {
	data := readFixture(b, "status-relay.json")
	for b.Loop() {
		if _, err := ParseStatus(data); err != nil {
			b.Fatal(err)
		}
	}
}
