package transcode_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/goleak"

	"autoradio"
	"autoradio/coordination"
	"autoradio/instrumentation/metricstest"
	"autoradio/internal/etcdtest"
	"autoradio/internal/testenv"
	"autoradio/node/transcode"
)

// TestMain fails the run if goroutines outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const ttl = 2 * time.Second

// node is one Manager with its own session, as radiod runs it.
type node struct {
	t    *testing.T
	name string
	dir  string
	m    *transcode.Manager
	reg  *prometheus.Registry
	s    *concurrency.Session
	done chan error
}

func startNode(t *testing.T, ctx context.Context, srv *etcdtest.Server, name string) *node {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "transcode")
	m, err := transcode.NewManager(transcode.Config{
		Node: name, LocalHost: "127.0.0.1", LocalPort: 9, Dir: dir,
		KillTimeout: time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := coordination.NewSession(ctx, srv.Client(), ttl)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, name: name, dir: dir, m: m, reg: prometheus.NewRegistry(), s: s, done: make(chan error, 1)}
	n.reg.MustRegister(m)
	ctx, cancel := context.WithCancel(ctx)
	go func() { n.done <- m.RunSession(ctx, s) }()
	t.Cleanup(func() {
		cancel()
		<-n.done
		s.Close()
	})
	return n
}

// pid is the PID of the liquidsoap this node runs for mount, or 0.
func (n *node) pid(mount string) int {
	for _, st := range n.m.Transcoders() {
		if st.Mount == mount {
			return st.PID
		}
	}
	return 0
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

func cluster(master int, tr autoradio.Transcoding) ([]*autoradio.Mount, *autoradio.MasterInfo) {
	tr.SourceName = "/live.ogg"
	tr.ApplyDefaults()
	return []*autoradio.Mount{
			{Name: "/live.ogg", Username: "u", Password: "p"},
			{Name: "/t.mp3", Username: "tu", Password: "secret-pw", Transcoding: &tr},
		},
		&autoradio.MasterInfo{Name: "m", IPs: []string{"127.0.0.1"}, IcecastPort: master}
}

// update gives every node the cluster of cluster(port, tr).
func update(nodes []*node, port int, tr autoradio.Transcoding) {
	mounts, master := cluster(port, tr)
	for _, n := range nodes {
		n.m.Update(mounts, master)
	}
}

// runner waits until exactly one node runs liquidsoap for /t.mp3, and
// returns it and its PID.
func runner(t *testing.T, timeout time.Duration, nodes ...*node) (*node, int) {
	t.Helper()
	var found *node
	var pid int
	testenv.Eventually(t, timeout, func() error {
		found, pid = nil, 0
		for _, n := range nodes {
			if p := n.pid("/t.mp3"); alive(p) {
				if found != nil {
					return fmt.Errorf("both %s and %s run liquidsoap", found.name, n.name)
				}
				found, pid = n, p
			}
		}
		if found == nil {
			return errors.New("no node runs liquidsoap")
		}
		return nil
	})
	return found, pid
}

func leader(t *testing.T, ctx context.Context, srv *etcdtest.Server) string {
	t.Helper()
	v, err := coordination.Leader(ctx, srv.Client(), autoradio.TranscoderElection("/t.mp3"))
	if errors.Is(err, coordination.ErrNoLeader) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Name string }
	json.Unmarshal(v, &c)
	return c.Name
}

func scriptOf(t *testing.T, n *node) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(n.dir, "*.liq"))
	if len(files) != 1 {
		t.Fatalf("%s: scripts %v, want one", n.name, files)
	}
	fi, _ := os.Stat(files[0])
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("script mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(files[0])
	return string(data)
}

// TestManager runs two Managers against a real etcd and real liquidsoap
// processes (with no Icecast to talk to, which liquidsoap survives): one
// runs the transcoder, a new master or new parameters restart it, losing
// the session stops it and the other node takes over, deleting the mount
// stops it.
func TestManager(t *testing.T) {
	if testing.Short() {
		t.Skip("runs liquidsoap")
	}
	testenv.RequireBinaries(t, "liquidsoap")
	ctx := testenv.Context(t, 90*time.Second)
	srv := etcdtest.Start(t)
	a, b := startNode(t, ctx, srv, "a"), startNode(t, ctx, srv, "b")
	nodes := []*node{a, b}
	update(nodes, 8001, autoradio.Transcoding{Codec: "mp3", Bitrate: 64})

	r, pid := runner(t, 30*time.Second, a, b)
	other := b
	if r == b {
		other = a
	}
	if got := leader(t, ctx, srv); got != r.name {
		t.Errorf("etcd says %q leads, but %s runs liquidsoap", got, r.name)
	}
	if s := scriptOf(t, r); !strings.Contains(s, "port=8001") || !strings.Contains(s, "%mp3(bitrate=64") {
		t.Errorf("script:\n%s", s)
	}
	metricstest.Lint(t, r.reg)
	if v := metricstest.Value(t, r.reg, "autoradio_transcoder_running", "mount", "/t.mp3"); v != 1 {
		t.Errorf("%s: running = %v, want 1", r.name, v)
	}
	if v := metricstest.Value(t, other.reg, "autoradio_transcoder_running", "mount", "/t.mp3"); v != 0 {
		t.Errorf("%s: running = %v, want 0", other.name, v)
	}

	// A new master: liquidsoap restarts with a script that pushes there.
	update(nodes, 8002, autoradio.Transcoding{Codec: "mp3", Bitrate: 64})
	pid = restarted(t, r, pid, "port=8002")
	// New parameters: the same.
	update(nodes, 8002, autoradio.Transcoding{Codec: "mp3", Bitrate: 96})
	pid = restarted(t, r, pid, "%mp3(bitrate=96")
	if v := metricstest.Value(t, r.reg, "autoradio_transcoder_restarts_total", "mount", "/t.mp3"); v != 2 {
		t.Errorf("restarts_total = %v, want 2", v)
	}
	if st := r.m.Transcoders(); len(st) != 1 || st[0].State != "running" || st[0].Master != "127.0.0.1:8002" || st[0].Codec != "mp3" {
		t.Errorf("status %+v", st)
	}
	if other.pid("/t.mp3") != 0 {
		t.Errorf("%s runs liquidsoap too", other.name)
	}

	if !alive(pid) || r.pid("/t.mp3") != pid {
		t.Fatalf("liquidsoap %d is not running", pid)
	}
	// The runner's session is lost: its liquidsoap stops at once, and the
	// other node takes over once the lease is gone.
	lost := time.Now()
	if _, err := srv.Client().Revoke(ctx, r.s.Lease()); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, func() error {
		if alive(pid) {
			return fmt.Errorf("liquidsoap %d still runs", pid)
		}
		return nil
	})
	t.Logf("liquidsoap stopped %v after the session was lost", time.Since(lost).Round(time.Millisecond))
	if err := <-r.done; !errors.Is(err, coordination.ErrSessionLost) {
		t.Errorf("RunSession after the session was lost: %v", err)
	}
	r.done <- nil // for the clean-up
	r2, _ := runner(t, 10*time.Second, other)
	t.Logf("%s runs the transcoder %v after %s's session was lost", r2.name, time.Since(lost).Round(time.Millisecond), r.name)

	// The mount is deleted: liquidsoap stops and the candidacies go.
	mounts, master := cluster(8002, autoradio.Transcoding{Codec: "mp3", Bitrate: 96})
	for _, n := range nodes {
		n.m.Update(mounts[:1], master)
	}
	testenv.Eventually(t, 5*time.Second, func() error {
		if p := r2.pid("/t.mp3"); p != 0 || len(r2.m.Transcoders()) != 0 {
			return fmt.Errorf("transcoders still run: %+v", r2.m.Transcoders())
		}
		if l := leader(t, ctx, srv); l != "" {
			return fmt.Errorf("%s still leads the election", l)
		}
		if files, _ := filepath.Glob(filepath.Join(r2.dir, "*")); len(files) != 0 {
			return fmt.Errorf("files left: %v", files)
		}
		return nil
	})
}

// restarted waits until r runs a new liquidsoap instead of old, with a
// script that contains want, and returns its PID.
func restarted(t *testing.T, r *node, old int, want string) int {
	t.Helper()
	var pid int
	testenv.Eventually(t, 30*time.Second, func() error {
		pid = r.pid("/t.mp3")
		if pid == old || !alive(pid) || alive(old) {
			return fmt.Errorf("liquidsoap %d not replaced (now %d)", old, pid)
		}
		if s := scriptOf(t, r); !strings.Contains(s, want) {
			return fmt.Errorf("script lacks %q", want)
		}
		return nil
	})
	return pid
}

// TestManagerReportsBadScripts: an encoding liquidsoap refuses is reported
// in the status and the metrics, and liquidsoap is not started.
func TestManagerReportsBadScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs liquidsoap")
	}
	testenv.RequireBinaries(t, "liquidsoap")
	ctx := testenv.Context(t, 60*time.Second)
	srv := etcdtest.Start(t)
	a := startNode(t, ctx, srv, "a")
	// autoradio.Transcoding.Validate refuses this stereo mode; liquidsoap
	// refuses it too.
	mounts, master := cluster(8001, autoradio.Transcoding{Codec: "mp3", Bitrate: 64})
	mounts[1].Transcoding.StereoMode = "bogus"
	a.m.Update(mounts, master)
	testenv.Eventually(t, 30*time.Second, func() error {
		st := a.m.Transcoders()
		if len(st) != 1 || !strings.Contains(st[0].State, "does not pass liquidsoap --check") || !strings.Contains(st[0].State, "bogus") {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	if a.pid("/t.mp3") != 0 {
		t.Error("liquidsoap runs a script that cannot work")
	}
	if v := metricstest.Value(t, a.reg, "autoradio_transcoder_check_failures_total", "mount", "/t.mp3"); v != 1 {
		t.Errorf("check_failures_total = %v, want 1", v)
	}
	// A record that Render refuses is reported as well.
	mounts[1].Transcoding.StereoMode, mounts[1].Transcoding.Codec = "", "flac"
	a.m.Update(mounts, master)
	testenv.Eventually(t, 10*time.Second, func() error {
		if st := a.m.Transcoders(); len(st) != 1 || !strings.Contains(st[0].State, `unknown codec "flac"`) {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
}
