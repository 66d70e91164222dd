package node

import (
	"reflect"
	"testing"

	"autoradio"
)

func TestFrontendURL(t *testing.T) {
	for addr, want := range map[string]string{
		"":                 "",
		":80":              "http://127.0.0.1:80",
		"0.0.0.0:8080":     "http://127.0.0.1:8080",
		"[::]:80":          "http://[::1]:80",
		"192.0.2.10:80":    "http://192.0.2.10:80",
		"[2001:db8::1]:80": "http://[2001:db8::1]:80",
		"localhost:80":     "http://localhost:80",
	} {
		got, err := FrontendURL(addr)
		if err != nil || got != want {
			t.Errorf("FrontendURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	if _, err := FrontendURL("80"); err == nil {
		t.Error(`FrontendURL("80"): no error`)
	}
}

func TestAddProxied(t *testing.T) {
	mounts := []autoradio.MountStatus{
		{Name: "/a.ogg", Listeners: 3}, // 2 direct + 1 shared connection
		{Name: "/b.mp3", Listeners: 2}, // 2 shared connections (Icy and not)
		{Name: "/c.ogg", Listeners: 4}, // not proxied
		{Name: "/d.ogg", Listeners: 0}, // its upstream not counted yet
	}
	addProxied(mounts, &autoradio.ProxiedStatus{Mounts: map[string]autoradio.ProxiedMount{
		"/a.ogg":    {Listeners: 10, Upstreams: 1},
		"/b.mp3":    {Listeners: 5, Upstreams: 2},
		"/d.ogg":    {Listeners: 1, Upstreams: 1},
		"/gone.ogg": {Listeners: 7, Upstreams: 1},
	}})
	want := []autoradio.MountStatus{
		{Name: "/a.ogg", Listeners: 12},
		{Name: "/b.mp3", Listeners: 5},
		{Name: "/c.ogg", Listeners: 4},
		{Name: "/d.ogg", Listeners: 1},
	}
	if !reflect.DeepEqual(mounts, want) {
		t.Errorf("got %+v\nwant %+v", mounts, want)
	}
}
