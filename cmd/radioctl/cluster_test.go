package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/testenv"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	if out := c.ok("status"); out != "master: none elected\nno nodes\n" {
		t.Errorf("status of an empty cluster: %q", out)
	}
	now := time.Now()
	nodes := []autoradio.NodeStatus{
		{Name: "n1", IPs: []string{"127.0.0.11"}, IcecastPort: 8000, IcecastOK: true, IsMaster: true,
			Mounts:    []autoradio.MountStatus{{Name: "/live.ogg", Listeners: 3, SourceConnected: true, BitrateKbps: 128}},
			Listeners: 3, MaxListeners: 1000, BandwidthBps: 2.5e6, BandwidthLimitBps: 1e8, UpdatedAt: now},
		{Name: "n2", IPs: []string{"127.0.0.12", "::1"}, IcecastPort: 8000,
			Mounts:    []autoradio.MountStatus{{Name: "/live.ogg", Listeners: 4}},
			Listeners: 4, UpdatedAt: now},
	}
	ctx := testenv.Context(t, 10*time.Second)
	for _, n := range nodes {
		data, _ := json.Marshal(n)
		if _, err := c.client.Etcd().Put(ctx, autoradio.NodeKey(n.Name), string(data)); err != nil {
			t.Fatal(err)
		}
	}
	master := `{"name":"n1","ips":["127.0.0.11"],"icecast_port":8000}`
	if _, err := c.client.Etcd().Put(ctx, autoradio.MasterElection+"/1", master); err != nil {
		t.Fatal(err)
	}
	out := c.ok("status")
	lines := strings.Split(out, "\n")
	if lines[0] != "master: n1 (127.0.0.11:8000)" {
		t.Errorf("master line %q", lines[0])
	}
	for _, want := range [][]string{
		{"NODE", "IPS", "ICECAST", "LISTENERS", "BANDWIDTH", "(BIT/S)", "UPDATED"},
		{"n1", "(master)", "127.0.0.11", "ok", "3/1000", "2.5M/100.0M", "0s", "ago"},
		{"/live.ogg", "source", "ok", "3", "128", "kbit/s"},
		{"n2", "127.0.0.12,::1", "down", "4/unlimited", "0/unlimited", "0s", "ago"},
		{"/live.ogg", "no", "source", "4"},
		{"total", "listeners:", "7", "on", "2", "nodes"},
	} {
		if !hasLine(lines, want) {
			t.Errorf("status lacks a line %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "password") {
		t.Error("status shows a password")
	}
}

func hasLine(lines []string, fields []string) bool {
	for _, l := range lines {
		if reflect.DeepEqual(strings.Fields(l), fields) {
			return true
		}
	}
	return false
}

func TestBackupRestoreIntoEmptyCluster(t *testing.T) {
	t.Parallel()
	src := newCluster(t)
	src.ok("create-mount", "/live.ogg")
	src.ok("create-mount", "/up.mp3", "--relay", "http://up.example.org:8000/up.mp3")
	src.ok("create-mount", "/b/main.ogg", "--fallback", "/up.mp3")
	src.ok("create-transcoding-mount", "/live.opus", "--source", "/live.ogg", "--codec", "opus", "--fallback", "/b/main.ogg")
	src.ok("create-transcoding-mount", "/live-vbr.ogg", "--source", "/live.ogg", "--codec", "vorbis", "--quality", "0.3")
	backup := src.ok("backup")
	if !strings.HasPrefix(backup, "version: 1\nmounts:\n  - name: /b/main.ogg\n") {
		t.Errorf("backup does not start with the version and sorted mounts:\n%s", backup)
	}

	file := filepath.Join(t.TempDir(), "mounts.yaml")
	if err := os.WriteFile(file, []byte(backup), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := newCluster(t)
	if out := dst.ok("restore", file); out != "restored 5 mounts\n" {
		t.Errorf("restore printed %q", out)
	}
	list := src.ok("list-mounts")
	if got := dst.ok("list-mounts"); got != list {
		t.Fatalf("restored list-mounts %q, want %q", got, list)
	}
	for _, path := range strings.Fields(list) {
		if got, want := dst.ok("show-mount", path), src.ok("show-mount", path); got != want {
			t.Errorf("show-mount %s after restore:\n%s\nwant:\n%s", path, got, want)
		}
	}
	if got := dst.ok("backup"); got != backup {
		t.Errorf("backup of the restored cluster differs:\n%s\nwant:\n%s", got, backup)
	}

	// Restoring over existing mounts updates them, from stdin too; others stay.
	dst.ok("create-mount", "/extra.ogg")
	dst.ok("edit-mount", "/live.ogg", "--relay", "http://elsewhere/x")
	if out := dst.ctlIn(backup, "restore", "-"); out.code != 0 {
		t.Fatalf("restore -: %+v", out)
	}
	if got, want := dst.ok("show-mount", "/live.ogg"), src.ok("show-mount", "/live.ogg"); got != want {
		t.Errorf("restore did not update /live.ogg:\n%s\nwant:\n%s", got, want)
	}
	dst.mount("/extra.ogg")
}

func TestRestoreBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.ok("create-mount", "/kept.ogg")
	before := c.ok("backup")
	dir := t.TempDir()
	for _, tc := range []struct{ name, yaml, msg string }{
		{"empty", "", "backup -: empty"},
		{"not YAML", "version: 1\nmounts: [\n", "backup -: yaml: line"},
		{"wrong shape", "version: 1\nmounts: {name: /a}\n", "cannot unmarshal"},
		{"unknown field", "version: 1\nmounts:\n  - name: /a.ogg\n    pasword: x\n", `field pasword not found`},
		{"no version", "mounts:\n  - name: /a.ogg\n", "version 0 is not supported (this radioctl reads version 1)"},
		{"future version", "version: 2\nmounts: []\n", "version 2 is not supported"},
		{"two documents", "version: 1\nmounts: []\n---\nversion: 1\n", "more than one YAML document"},
		{"null mount", "version: 1\nmounts:\n  - name: /a.ogg\n  -\n", "mount #2 is empty"},
		{"invalid mount", "version: 1\nmounts:\n  - name: /a.ogg\n  - name: /b.m3u\n", `mount "/b.m3u": mount path "/b.m3u" must not end in .m3u`},
		{"bad transcoding", "version: 1\nmounts:\n  - name: /a.ogg\n  - name: /t\n    transcoding: {source_name: /a.ogg, codec: mp3, bitrate: 100}\n", `mount "/t": bitrate 100 kbit/s is not an mp3 bitrate`},
		{"dangling reference", "version: 1\nmounts:\n  - name: /a.ogg\n    fallback: /nowhere\n", "refers to /nowhere, which is neither in the backup nor stored"},
		{"duplicate", "version: 1\nmounts:\n  - name: /a.ogg\n  - name: /a.ogg\n", "mount /a.ogg appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkFailure(t, c.ctlIn(tc.yaml, "restore", "-"), 1, tc.msg, []string{"restore", "-"})
		})
	}
	c.fails(1, "no such file or directory", "restore", filepath.Join(dir, "missing.yaml"))
	if after := c.ok("backup"); after != before {
		t.Errorf("failed restores changed the mounts:\n%s\nwant:\n%s", after, before)
	}
}

func TestUnreachableEtcdFailsInBoundedTime(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"list-mounts"},
		{"create-mount", "/a.ogg"},
		{"status"},
		{"restore", "-"},
	} {
		start := time.Now()
		full := append([]string{"--etcd-urls", "http://127.0.0.1:1", "--etcd-ca", "", "--timeout", "500ms"}, args...)
		r := runCtl(t, "version: 1\nmounts: []\n", full...)
		elapsed := time.Since(start)
		checkFailure(t, r, 1, "etcd at http://127.0.0.1:1 unreachable: context deadline exceeded", full)
		if elapsed > 3*time.Second {
			t.Errorf("radioctl %q took %v with --timeout 500ms", args, elapsed)
		}
	}
}
