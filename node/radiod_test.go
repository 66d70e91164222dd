package node_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
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

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	os.Exit(code)
}

// setup starts what every test here needs, a real etcd and a client of
// it, and returns a context that ends after timeout.
func setup(t *testing.T, timeout time.Duration) (context.Context, *etcdtest.Server, *autoradio.Client) {
	t.Helper()
	clustertest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
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
