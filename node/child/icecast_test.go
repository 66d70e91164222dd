package child

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"autoradio/internal/testenv"
)

const icecastConfig = `<icecast>
  <limits><clients>10</clients><sources>2</sources></limits>
  <authentication>
    <source-password>test-source</source-password>
    <admin-user>admin</admin-user><admin-password>test-admin</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths>
    <basedir>%[2]s</basedir><logdir>%[2]s</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot>
  </paths>
  <logging><accesslog>-</accesslog><errorlog>-</errorlog><loglevel>3</loglevel></logging>
  <security><chroot>0</chroot>
    <changeowner><user>icecast2</user><group>icecast</group></changeowner>
  </security>
</icecast>
`

// icecastDir makes a directory the icecast2 user can read and write.
func icecastDir(t *testing.T) string {
	t.Helper()
	u, err := user.Lookup("icecast2")
	if err != nil {
		t.Fatalf("icecast2 user: %v", err)
	}
	dir, err := os.MkdirTemp("", "child-icecast-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir
}

// httpOK is a readiness check: url answers 200.
func httpOK(url string) func(context.Context) error {
	client := &http.Client{Timeout: time.Second}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

func TestIcecast(t *testing.T) {
	if testing.Short() {
		t.Skip("starts icecast2")
	}
	testenv.RequireBinaries(t, "icecast2")
	// The icecast2 test config uses <changeowner>, which needs root.
	testenv.RequireRoot(t)
	dir := icecastDir(t)
	port := testenv.FreePort(t, "127.0.0.1")
	conf := filepath.Join(dir, "icecast.xml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, icecastConfig, port, dir), 0o644); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/status-json.xsl", port)
	logs := &syncBuffer{}
	cfg := Config{Name: "icecast", Path: "icecast2", Args: []string{"-c", conf},
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Ready:  httpOK(url), BackoffInitial: 100 * time.Millisecond}
	r := start(t, cfg)

	first := r.rec.waitCount(t, Ready, 1, 10*time.Second)[0]
	t.Logf("icecast ready %v after start", first.Time.Sub(r.rec.of(Started)[0].Time))

	// A crash from outside: the supervisor starts a new Icecast that serves again.
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := r.rec.waitCount(t, Ready, 2, 10*time.Second)[1]
	if second.PID == first.PID {
		t.Fatalf("same PID %d after the crash", first.PID)
	}
	t.Logf("icecast serving again %v after the kill", second.Time.Sub(r.rec.of(Exited)[0].Time))

	// A reload keeps the same process serving. Icecast handles SIGHUP in
	// a thread that polls for it, so wait until it says it reloaded.
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "icecast to log the reload", func() bool {
		return logs.contains("Caught config reload request")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	eventually(t, 5*time.Second, "icecast to answer after SIGHUP", func() bool { return httpOK(url)(ctx) == nil })
	if r.PID() != second.PID || len(r.rec.of(Started)) != 2 {
		t.Errorf("after SIGHUP: PID %d (want %d), %d starts (want 2)", r.PID(), second.PID, len(r.rec.of(Started)))
	}

	took := r.stop(t)
	assertReaped(t, r)
	last := r.rec.of(Exited)[1]
	if took > 4*time.Second || last.Signal == syscall.SIGKILL {
		t.Errorf("stop took %v, exit signal %v; want a clean exit on SIGTERM", took, last.Signal)
	}
	t.Logf("icecast stopped in %v (exit code %d, signal %d)", took, last.ExitCode, int(last.Signal))
}
