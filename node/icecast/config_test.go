package icecast

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"autoradio"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// baseParams are the node-independent parameters of the golden configs.
func baseParams() Params {
	return Params{
		NodeName:      "node1",
		ListenIPs:     []string{"192.0.2.1", "2001:db8::1"},
		Port:          8000,
		MaxListeners:  500,
		RelayNodes:    2,
		IsMaster:      true,
		AdminPassword: "admin-secret",
		RelayPassword: "relay-secret",
		BaseDir:       "/var/lib/autoradio",
		WebRoot:       "/var/lib/autoradio/web",
		User:          "icecast2",
		Group:         "icecast",
	}
}

func masterMounts() []*autoradio.Mount {
	return []*autoradio.Mount{
		{Name: "/live.ogg", Username: "source1", Password: "p<&>\"1", Fallback: "/backup.ogg"},
		{Name: "/backup.ogg", Username: "source2", Password: "p2"},
		{Name: "/upstream.mp3", RelayURL: "http://user:pw@radio.example.org:8080/stream.mp3"},
		{Name: "/plain.mp3", RelayURL: "http://radio.example.org/x"},
		{Name: "/live.mp3", Username: "source3", Password: "p3",
			Transcoding: &autoradio.Transcoding{SourceName: "/live.ogg", Codec: "mp3", Bitrate: 64}},
	}
}

func TestRenderGolden(t *testing.T) {
	master := baseParams()
	master.Mounts = masterMounts()
	master.LowBurstMounts = []string{"/live.ogg"}

	relay := baseParams()
	relay.IsMaster = false
	relay.MasterIP, relay.MasterPort = "192.0.2.2", 8000
	relay.Mounts = append(masterMounts(), &autoradio.Mount{Name: "/talk.opus"}, &autoradio.Mount{Name: "/x.aac"})
	relay.LowBurstMounts = []string{"/live.ogg"}
	relay.MasterUpdateInterval = 2 * time.Second

	empty := baseParams()
	empty.User, empty.Group = "", ""
	empty.ListenIPs = nil

	for _, tc := range []struct {
		name string
		p    Params
	}{
		{"master", master},
		{"relay", relay},
		{"empty", empty},
		{"master-1000", thousandMounts(true)},
		{"relay-1000", thousandMounts(false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Render(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			mustParseXML(t, got)
			golden := filepath.Join("testdata", tc.name+".xml.golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("config differs from %s (go test -update rewrites it):\n%s", golden, got)
			}
			again, _ := Render(tc.p)
			if !bytes.Equal(got, again) {
				t.Error("Render is not deterministic")
			}
		})
	}
}

func TestRenderMountOrderDoesNotMatter(t *testing.T) {
	a, b := baseParams(), baseParams()
	a.Mounts = masterMounts()
	ms := masterMounts()
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	b.Mounts = ms
	ca, _ := Render(a)
	cb, _ := Render(b)
	if !bytes.Equal(ca, cb) {
		t.Error("the config depends on the order of the mounts")
	}
}

func TestRender1000Mounts(t *testing.T) {
	for _, master := range []bool{true, false} {
		p := thousandMounts(master)
		out, err := Render(p)
		if err != nil {
			t.Fatal(err)
		}
		cfg := mustParseXML(t, out)
		wantRelays := 1000
		if master {
			wantRelays = 100 // every tenth mount relays an upstream URL
		}
		if len(cfg.Mounts) != 2000 || len(cfg.Relays) != wantRelays {
			t.Errorf("master=%v: %d mounts, %d relays; want 1000 and 1000 of silence, %d",
				master, len(cfg.Mounts), len(cfg.Relays), wantRelays)
		}
		if want := 2000 + len(silences); cfg.Limits.Sources < want {
			t.Errorf("master=%v: <sources> %d is below the count of mounts, live silence mounts and silence files (%d)",
				master, cfg.Limits.Sources, want)
		}
		for i := 1; i < len(cfg.Mounts); i++ {
			if cfg.Mounts[i-1].Name >= cfg.Mounts[i].Name {
				t.Fatalf("mounts not sorted at %d: %s, %s", i, cfg.Mounts[i-1].Name, cfg.Mounts[i].Name)
			}
		}
		if !master {
			for _, m := range cfg.Mounts {
				if m.FallbackMount == "" || m.FallbackOverride == nil || *m.FallbackOverride != 1 {
					t.Fatalf("relayed mount %s has no fallback with override", m.Name)
				}
			}
		}
	}
}

func thousandMounts(master bool) Params {
	p := baseParams()
	p.IsMaster = master
	p.MasterIP, p.MasterPort = "192.0.2.2", 8000
	for i := range 1000 {
		m := &autoradio.Mount{Name: fmt.Sprintf("/m%04d.ogg", 999-i), Username: "u", Password: "p"}
		if i%10 == 0 {
			m.RelayURL = fmt.Sprintf("http://up.example.org/s%d", i)
		}
		p.Mounts = append(p.Mounts, m)
	}
	return p
}

func TestRenderEscapes(t *testing.T) {
	p := baseParams()
	p.Mounts = masterMounts()
	out, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustParseXML(t, out)
	for _, m := range cfg.Mounts {
		if m.Name == "/live.ogg" && m.Password != `p<&>"1` {
			t.Errorf("password after a round trip: %q", m.Password)
		}
	}
}

func TestRenderUpstreamRelay(t *testing.T) {
	p := baseParams()
	p.Mounts = masterMounts()
	out, _ := Render(p)
	cfg := mustParseXML(t, out)
	want := map[string]xmlRelay{
		"/upstream.mp3": {Server: "radio.example.org", Port: 8080, Mount: "/stream.mp3", LocalMount: "/upstream.mp3", Username: "user", Password: "pw"},
		"/plain.mp3":    {Server: "radio.example.org", Port: 80, Mount: "/x", LocalMount: "/plain.mp3"},
	}
	for _, r := range cfg.Relays {
		if r != want[r.LocalMount] {
			t.Errorf("relay %s = %+v, want %+v", r.LocalMount, r, want[r.LocalMount])
		}
	}
	if len(cfg.Relays) != len(want) {
		t.Errorf("%d relays, want %d", len(cfg.Relays), len(want))
	}
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Params)
		want   string
	}{
		{"no base dir", func(p *Params) { p.BaseDir = "" }, "base directory"},
		{"no admin password", func(p *Params) { p.AdminPassword = "" }, "passwords"},
		{"bad port", func(p *Params) { p.Port = 70000 }, "port"},
		{"user without group", func(p *Params) { p.Group = "" }, "changeowner"},
		{"bad listen ip", func(p *Params) { p.ListenIPs = []string{"example.org"} }, "listen address"},
		{"relay without master", func(p *Params) { p.IsMaster = false }, "master"},
		{"bad mount", func(p *Params) { p.Mounts = []*autoradio.Mount{{Name: "/_x"}} }, "reserved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := baseParams()
			tc.change(&p)
			_, err := Render(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// Each mount without a fallback of its own falls back to a live silence
// mount of its own, which falls back to the silence file of its codec.
func TestSilenceMount(t *testing.T) {
	for _, tc := range []struct {
		mount      autoradio.Mount
		live, file string
	}{
		{autoradio.Mount{Name: "/a.ogg"}, "/_silence-live/a.ogg", "/_silence.ogg"},
		{autoradio.Mount{Name: "/a.OGA"}, "/_silence-live/a.OGA", "/_silence.ogg"},
		{autoradio.Mount{Name: "/a.opus"}, "/_silence-live/a.opus", "/_silence.opus"},
		{autoradio.Mount{Name: "/a.mp3"}, "/_silence-live/a.mp3", "/_silence.mp3"},
		{autoradio.Mount{Name: "/b/a.aac"}, "/_silence-live/b/a.aac", "/_silence.aac"},
		{autoradio.Mount{Name: "/live"}, "/_silence-live/live", "/_silence.mp3"},
		{autoradio.Mount{Name: "/live", Transcoding: &autoradio.Transcoding{Codec: "opus"}}, "/_silence-live/live", "/_silence.opus"},
	} {
		if got := fallbackOf(&tc.mount); got != tc.live {
			t.Errorf("fallback of %s: %s, want %s", tc.mount.Name, got, tc.live)
		}
		blocks := silenceMounts([]*autoradio.Mount{&tc.mount})
		if len(blocks) != 1 || blocks[0].Name != tc.live || blocks[0].FallbackMount != tc.file ||
			blocks[0].Hidden == nil || *blocks[0].Hidden != 1 {
			t.Errorf("silence mounts of %s: %+v, want %s, hidden, falling back to %s", tc.mount.Name, blocks, tc.live, tc.file)
		}
	}
	own := &autoradio.Mount{Name: "/a.mp3", Fallback: "/b.mp3"}
	if got := fallbackOf(own); got != own.Fallback {
		t.Errorf("fallback of a mount with its own: %s, want %s", got, own.Fallback)
	}
	if blocks := silenceMounts([]*autoradio.Mount{own}); len(blocks) != 0 {
		t.Errorf("a mount with a fallback of its own has live silence mounts %+v", blocks)
	}
}

// The feeds of a config are its live silence mounts, with their codecs,
// read back from the file as from the built config.
func TestSilenceFeeds(t *testing.T) {
	p := baseParams()
	p.Mounts = append(masterMounts(), &autoradio.Mount{Name: "/talk.opus"}, &autoradio.Mount{Name: "/x.aac"})
	data, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/_silence-live/backup.ogg":   "vorbis",
		"/_silence-live/upstream.mp3": "mp3",
		"/_silence-live/plain.mp3":    "mp3",
		"/_silence-live/live.mp3":     "mp3",
		"/_silence-live/talk.opus":    "opus",
		"/_silence-live/x.aac":        "aac",
	}
	if got := silenceFeeds(mustParseXML(t, data)); !maps.Equal(got, want) {
		t.Errorf("feeds %v, want %v", got, want)
	}
}

func mustParseXML(t testing.TB, data []byte) *xmlConfig {
	t.Helper()
	var cfg xmlConfig
	if err := xml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("generated config does not parse: %v", err)
	}
	return &cfg
}

func BenchmarkRender1000(b *testing.B) {
	p := thousandMounts(false)
	for b.Loop() {
		if _, err := Render(p); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReplacesRelays(t *testing.T) {
	master := baseParams()
	master.Mounts = masterMounts()
	relay := baseParams()
	relay.IsMaster = false
	relay.MasterIP, relay.MasterPort = "127.0.0.1", 40000
	relay.Mounts = masterMounts()
	with := func(p Params, change func(*Params)) Params {
		p.Mounts = append([]*autoradio.Mount(nil), p.Mounts...)
		change(&p)
		return p
	}
	for _, tc := range []struct {
		name     string
		old, new Params
		want     bool
	}{
		{"same master config", master, master, false},
		{"master: a mount added", master, with(master, func(p *Params) {
			p.Mounts = append(p.Mounts, &autoradio.Mount{Name: "/new.ogg", Username: "u", Password: "p"})
		}), false},
		{"master: an upstream mount deleted", master, with(master, func(p *Params) { p.Mounts = p.Mounts[:2] }), true},
		{"master: an upstream changed", master, with(master, func(p *Params) {
			p.Mounts[3] = &autoradio.Mount{Name: "/plain.mp3", RelayURL: "http://radio.example.org/y"}
		}), true},
		{"master: listener limit changed", master, with(master, func(p *Params) { p.MaxListeners = 10 }), false},
		{"relay: a mount added", relay, with(relay, func(p *Params) {
			p.Mounts = append(p.Mounts, &autoradio.Mount{Name: "/new.ogg"})
		}), false},
		{"relay: relayed from elsewhere", relay, with(relay, func(p *Params) { p.MasterPort = 40001 }), true},
		{"relay becomes master", relay, master, true},
		{"master becomes relay", master, relay, true}, // its upstream relays now go through the proxy
		{"master without upstreams becomes relay", with(master, func(p *Params) { p.Mounts = p.Mounts[:2] }), relay, false},
	} {
		if got := ReplacesRelays(tc.old, tc.new); got != tc.want {
			t.Errorf("%s: ReplacesRelays = %v, want %v", tc.name, got, tc.want)
		}
	}
}
