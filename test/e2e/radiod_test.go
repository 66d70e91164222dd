package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	"autoradio/internal/clustertest"
	"autoradio/internal/etcdtest"
	"autoradio/internal/testenv"
)

// These tests run the real radiod binary, each node on its own loopback
// address with the same Icecast port, against a real etcd, and push audio
// with ffmpeg through the Icecast servers radiod runs.

// setup starts what every test here needs, a real etcd and a client of
// it, and returns a context that ends after timeout.
func setup(t *testing.T, timeout time.Duration) (context.Context, *etcdtest.Server, *autoradio.Client) {
	t.Helper()
	clustertest.Require(t)
	ctx := testenv.Context(t, timeout)
	etcd := etcdtest.Start(t)
	return ctx, etcd, autoradio.NewClient(etcd.Client(), nil)
}

// oneNode starts radiod n1 and waits until it is master.
func oneNode(t *testing.T, etcd *etcdtest.Server, c *autoradio.Client) *clustertest.Radiod {
	t.Helper()
	n1 := clustertest.StartRadiod(t, etcd.URL(), "n1", "127.0.0.11", clustertest.FreePort(t, "127.0.0.11"))
	clustertest.Master(t, c, 10*time.Second, n1)
	return n1
}

// createMount creates a mount with fresh source credentials.
func createMount(t *testing.T, ctx context.Context, c *autoradio.Client, name string) *autoradio.Mount {
	t.Helper()
	m := clustertest.NewMount(t, name)
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
	return m
}

func decodeCapture(t *testing.T, ctx context.Context, url string, d time.Duration) {
	t.Helper()
	data, err := audiotest.Capture(ctx, url, d)
	if err != nil {
		t.Fatalf("listening to %s: %v", url, err)
	}
	if err := audiotest.Decode(ctx, data, d/2); err != nil {
		t.Fatalf("capture of %s: %v", url, err)
	}
}

func TestSingleNode(t *testing.T) {
	ctx, etcd, c := setup(t, 90*time.Second)
	n1 := oneNode(t, etcd, c)
	testenv.Eventually(t, 10*time.Second, func() error { _, err := n1.Status(); return err })

	m := clustertest.NewMount(t, "/live.ogg")
	created := time.Now()
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	// The source, retrying like real ones, is accepted within 2 s; a wrong
	// password is refused.
	audiotest.Source(t, clustertest.SourceURL(n1.Addr(), m))
	n1.WaitSource(2*time.Second, m.Name)
	t.Logf("create-mount to source accepted: %v", time.Since(created).Round(time.Millisecond))
	if code, err := clustertest.SourceStatus(n1.Addr(), m.Name, m.Username, "wrong"); err != nil || code != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, %v; want 401", code, err)
	}
	decodeCapture(t, ctx, n1.URL(m.Name), 4*time.Second)

	// A deleted mount is gone within 2 s: its source is disconnected and
	// listeners get 404.
	if err := c.DeleteMount(ctx, m.Name); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 2*time.Second, func() error {
		resp, err := http.Get(n1.URL(m.Name))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			return fmt.Errorf("deleted mount: status %d", resp.StatusCode)
		}
		return nil
	})
}

func TestIcecastCrashIsRestarted(t *testing.T) {
	ctx, etcd, c := setup(t, 60*time.Second)
	n1 := oneNode(t, etcd, c)
	m := createMount(t, ctx, c, "/crash.ogg")
	testenv.Eventually(t, 10*time.Second, func() error {
		if n1.IcecastPID() == 0 {
			return fmt.Errorf("icecast not running")
		}
		_, err := n1.Status()
		return err
	})
	old := n1.IcecastPID()
	syscall.Kill(old, syscall.SIGKILL)
	killed := time.Now()
	testenv.Eventually(t, 10*time.Second, func() error {
		if pid := n1.IcecastPID(); pid == 0 || pid == old {
			return fmt.Errorf("icecast not restarted")
		}
		_, err := n1.Status()
		return err
	})
	t.Logf("icecast answering again %v after kill -9", time.Since(killed).Round(time.Millisecond))
	audiotest.Source(t, clustertest.SourceURL(n1.Addr(), m))
	n1.WaitSource(5*time.Second, m.Name)
	decodeCapture(t, ctx, n1.URL(m.Name), 3*time.Second)
}

func TestCorruptRecordIsSkipped(t *testing.T) {
	ctx, etcd, c := setup(t, 60*time.Second)
	cli := etcd.Client()
	if _, err := cli.Put(ctx, autoradio.MountKey("/broken.ogg"), "{not json"); err != nil {
		t.Fatal(err)
	}
	n1 := oneNode(t, etcd, c)
	m := createMount(t, ctx, c, "/good.ogg")
	if _, err := cli.Put(ctx, autoradio.MountKey("/broken2.ogg"), `{"name":"/other.ogg"}`); err != nil {
		t.Fatal(err)
	}
	audiotest.Source(t, clustertest.SourceURL(n1.Addr(), m))
	n1.WaitSource(5*time.Second, m.Name)
	decodeCapture(t, ctx, n1.URL(m.Name), 3*time.Second)
	if !strings.Contains(n1.Proc.Output(), "/broken.ogg") {
		t.Error("the corrupt record was not logged")
	}
	select {
	case <-n1.Proc.Done():
		t.Fatal("radiod exited")
	default:
	}
}

// controlTitle has every ASCII control character but NUL, which cannot
// pass through Icecast's C strings.
var controlTitle = func() string {
	var b strings.Builder
	b.WriteString("t")
	for c := byte(1); c < 0x20; c++ {
		b.WriteByte(c)
	}
	b.WriteString("end")
	return b.String()
}()

// setTitle updates m's title on Icecast at addr the way source clients
// do, with the mount's source credentials.
func setTitle(ctx context.Context, addr string, m *autoradio.Mount, title string) error {
	q := url.Values{"mount": {m.Name}, "mode": {"updinfo"}, "song": {title}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/admin/metadata?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(m.Username, m.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("title update: %s", resp.Status)
	}
	return nil
}

// A title is data: whatever bytes a source sends in it, the node keeps
// reading its Icecast, reports it up and publishes the mount as live.
func TestControlCharactersInTitle(t *testing.T) {
	ctx, etcd, c := setup(t, 60*time.Second)
	n1 := oneNode(t, etcd, c)
	m := createMount(t, ctx, c, "/title.mp3")
	audiotest.Source(t, clustertest.SourceURL(n1.Addr(), m))
	n1.WaitSource(10*time.Second, m.Name)
	// Icecast keeps invalid UTF-8 out of its statistics (it logs a
	// warning); the control characters pass.
	for _, title := range []string{"bad \xff\xfe\xc3", controlTitle} {
		if err := setTitle(ctx, n1.Addr(), m, title); err != nil {
			t.Fatal(err)
		}
	}
	// Every control character became a space.
	testenv.Eventually(t, 10*time.Second, func() error {
		nodes, err := c.ListNodes(ctx)
		if err != nil {
			return err
		}
		for _, st := range nodes {
			if st.Name != n1.Name {
				continue
			}
			if !st.IcecastOK || len(st.Mounts) != 1 || !st.Mounts[0].SourceConnected {
				return fmt.Errorf("published status %+v: want Icecast up and a live source", st)
			}
			if got := st.Mounts[0].Title; got != "t"+strings.Repeat(" ", 31)+"end" {
				return fmt.Errorf("published title %q: want the control characters as spaces", got)
			}
			return nil
		}
		return fmt.Errorf("node %s not published", n1.Name)
	})
	data, err := audiotest.Capture(ctx, n1.URL(m.Name), 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := audiotest.DecodeJoined(ctx, data, 2*time.Second); err != nil {
		t.Fatal(err)
	}
}

// Icecast, once it has dropped root, cannot reach a state directory under
// a 0700 directory: it starts, but cannot serve the status stylesheet nor
// reread its config. radiod refuses to start then, naming the directory
// in the way and the fix, rather than run on with an Icecast that is
// never ready.
func TestUnreachableStateDirStopsRadiod(t *testing.T) {
	_, etcd, _ := setup(t, 60*time.Second)
	locked, err := os.MkdirTemp("", "radiod-locked-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(locked) })
	if err := os.Chmod(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	n1 := clustertest.NewRadiod(t, etcd.URL(), "n1", "127.0.0.11", clustertest.FreePort(t, "127.0.0.11"))
	n1.StateDir = filepath.Join(locked, "state")
	n1.Start()
	select {
	case <-n1.Proc.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("radiod still runs 30 s after it started with its state directory under the 0700 %s", locked)
	}
	if code := n1.Proc.Cmd.ProcessState.ExitCode(); code == 0 {
		t.Errorf("radiod exited with status 0")
	}
	out := n1.Proc.Output()
	for _, want := range []string{"user icecast2 cannot", "directory " + locked + " is 0700 root:root", "chmod o+x " + locked} {
		if !strings.Contains(out, want) {
			t.Errorf("radiod's output does not say %q:\n%s", want, out)
		}
	}
}
