package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/testenv"
)

func TestNotServing(t *testing.T) {
	served := []autoradio.MountStatus{{Name: "/live.ogg", Configured: true}}
	for _, tc := range []struct {
		name  string
		nodes []*autoradio.NodeStatus
		want  []string
	}{
		{"no nodes", nil, []string{""}},
		{"all serve", []*autoradio.NodeStatus{
			{Name: "n1", IcecastOK: true, IsMaster: true, Mounts: served},
			{Name: "n2", IcecastOK: true, Mounts: served},
		}, nil},
		{"one lags, one is down, one is old", []*autoradio.NodeStatus{
			{Name: "n1", IcecastOK: true, Mounts: served},
			{Name: "n2", IcecastOK: true, Mounts: []autoradio.MountStatus{{Name: "/live.ogg"}}},
			{Name: "n3", Mounts: served},
			{Name: "n4", IcecastOK: true, Mounts: []autoradio.MountStatus{{Name: "/other.ogg", Configured: true}}},
		}, []string{"n2", "n3", "n4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := notServing(tc.nodes, "/live.ogg"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("notServing = %q, want %q", got, tc.want)
			}
		})
	}
}

// create-mount --wait returns once every node publishes that it serves
// the mount; when one does not in time, it fails naming it, and the mount
// stays, its credentials printed.
func TestCreateMountWait(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	ctx := testenv.Context(t, 30*time.Second)
	publish := func(name string, configured ...string) {
		n := autoradio.NodeStatus{Name: name, IPs: []string{"127.0.0.11"}, IcecastPort: 8000, IcecastOK: true}
		for _, m := range configured {
			n.Mounts = append(n.Mounts, autoradio.MountStatus{Name: m, Configured: true})
		}
		data, _ := json.Marshal(n)
		if _, err := c.client.Etcd().Put(ctx, autoradio.NodeKey(name), string(data)); err != nil {
			t.Fatal(err)
		}
	}
	publish("n1", "/served.ogg", "/lagging.ogg")
	publish("n2", "/served.ogg")
	if r := c.ctl("create-mount", "/served.ogg", "--wait"); r.code != 0 || !strings.Contains(r.stdout, "password: ") {
		t.Fatalf("create-mount --wait of a served mount: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r := c.ctl("create-mount", "/lagging.ogg", "--wait", "--wait-timeout", "1500ms")
	if r.code != 1 {
		t.Fatalf("create-mount --wait of a mount n2 lacks: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"/lagging.ogg", "not yet on n2", "stays created"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
	}
	if strings.Contains(r.stderr, "n1") {
		t.Errorf("stderr %q names n1, which serves the mount", r.stderr)
	}
	if !strings.Contains(r.stdout, "password: ") {
		t.Errorf("the credentials of the created mount are not printed: %q", r.stdout)
	}
	if _, err := c.client.GetMount(ctx, "/lagging.ogg"); err != nil {
		t.Errorf("the mount is gone after the wait failed: %v", err)
	}
	if r := c.ctl("create-mount", "/x.ogg", "--wait", "--wait-timeout", "0s"); r.code == 0 {
		t.Error("--wait-timeout 0s accepted")
	}
	if _, err := c.client.GetMount(ctx, "/x.ogg"); err == nil {
		t.Error("a mount was created despite a bad --wait-timeout")
	}
}
