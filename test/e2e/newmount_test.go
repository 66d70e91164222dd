package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// ffmpegOnce pushes a live stream to m through addr with one ffmpeg,
// which, like most source clients, does not try again when refused.
func ffmpegOnce(t *testing.T, addr string, m *autoradio.Mount) *testenv.Proc {
	t.Helper()
	testenv.RequireBinaries(t, "ffmpeg")
	url := ct.SourceURL(addr, m)
	args := append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, audiotest.EncodeArgs(url)...)
	return testenv.Start(t, "ffmpeg", append(args, "icecast://"+strings.TrimPrefix(url, "http://"))...)
}

// putOnce sends one PUT source request for m, waiting for 100 Continue as
// libshout does, and returns the final status code. An accepted source
// is left connected until the test ends.
func putOnce(ctx context.Context, t *testing.T, addr string, m *autoradio.Mount) int {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	auth := base64.StdEncoding.EncodeToString([]byte(m.Username + ":" + m.Password))
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nContent-Type: application/ogg\r\nExpect: 100-continue\r\n\r\n",
		m.Name, addr, auth)
	br := bufio.NewReader(conn)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading the answer to PUT %s: %v", m.Name, err)
		}
		if resp.StatusCode >= 200 {
			return resp.StatusCode
		}
	}
}

// A source that connects right after its mount is created, before the
// master's Icecast has it, is held by the front-end and accepted, by
// clients that never try again: a raw PUT and a single ffmpeg.
func TestSourceRightAfterCreateMount(t *testing.T) {
	p := startPair(t, []string{"127.0.0.11", "127.0.0.12"}, "--source-hold=1m")
	ctx := testenv.Context(t, 3*time.Minute)
	put, ff := ct.NewMount(t, "/put.ogg"), ct.NewMount(t, "/ffmpeg.ogg")
	for _, m := range []*autoradio.Mount{put, ff} {
		if err := p.c.CreateMount(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	source := ffmpegOnce(t, p.feAddr(), ff)
	if code := putOnce(ctx, t, p.feAddr(), put); code != http.StatusOK {
		t.Errorf("PUT right after create-mount: %d, want 200", code)
	}
	p.r1.WaitSource(testenv.Bound(time.Minute), ff.Name)
	select {
	case <-source.Done():
		t.Fatalf("ffmpeg gave up:\n%s", source.Output())
	default:
	}
}

// radioctl create-mount --wait returns once both nodes serve the mount: a
// source is then accepted at once through a front-end that holds none,
// and listeners on both nodes decode its audio.
func TestCreateMountWait(t *testing.T) {
	p := startPair(t, []string{"127.0.0.11", "127.0.0.12"}, "--source-hold=-1s")
	ctx := testenv.Context(t, 3*time.Minute)
	out, err := exec.CommandContext(ctx, testenv.Binary(t, "radioctl"), "--etcd-urls", p.etcd.URL(), "--etcd-ca", "",
		"create-mount", "/waited.ogg", "--wait", "--wait-timeout", testenv.Bound(time.Minute).String()).CombinedOutput()
	if err != nil {
		t.Fatalf("radioctl create-mount --wait: %v\n%s", err, out)
	}
	m := &autoradio.Mount{Name: "/waited.ogg", Username: field(string(out), "username"), Password: field(string(out), "password")}
	nodes, err := p.c.ListNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if ms, ok := n.Mount(m.Name); !ok || !ms.Configured {
			t.Errorf("radioctl returned while %s does not serve %s: %+v", n.Name, m.Name, ms)
		}
	}
	source := ffmpegOnce(t, p.feAddr(), m)
	p.r1.WaitSource(testenv.Bound(30*time.Second), m.Name)
	for _, r := range []*ct.Radiod{p.r1, p.r2} {
		testenv.Eventually(t, time.Minute, func() error {
			data, err := audiotest.Capture(ctx, r.URL(m.Name), 3*time.Second)
			if err != nil {
				return fmt.Errorf("%s: %w", r.Name, err)
			}
			return audiotest.Decode(ctx, data, 2*time.Second)
		})
	}
	select {
	case <-source.Done():
		t.Fatalf("ffmpeg was refused or cut off:\n%s", source.Output())
	default:
	}
}

// field returns the value of "name: value" in radioctl's output.
func field(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, name+": "); ok {
			return v
		}
	}
	return ""
}
