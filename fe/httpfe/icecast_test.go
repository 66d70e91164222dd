package httpfe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Source credentials of the mounts the test Icecast knows.
const (
	srcUser = "srcuser"
	srcPass = "srcpass"
)

// requireBinary skips the test when a program is missing, or fails it in CI.
func requireBinary(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs " + name)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found: %v", name, err)
		}
		t.Skipf("%s not found: %v", name, err)
	}
	return p
}

// freePort returns a TCP port that was free a moment ago on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// icecast is a real icecast2 started for one test.
type icecast struct {
	addr string // 127.0.0.1:port
	port int
	kill func() // SIGKILL, and wait for it to exit
}

const icecastConfig = `<icecast>
  <location>test</location><admin>test@localhost</admin><hostname>127.0.0.1</hostname>
  <limits><clients>%d</clients><sources>8</sources><queue-size>524288</queue-size>
    <client-timeout>30</client-timeout><header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout><burst-size>65535</burst-size></limits>
  <authentication><source-password>%s</source-password><relay-password>%s</relay-password>
    <admin-user>admin</admin-user><admin-password>%s</admin-password></authentication>
  <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address></listen-socket>
  %s
  <fileserve>1</fileserve>
  <paths><basedir>%s</basedir><logdir>%s</logdir><webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><errorlog>-</errorlog><accesslog>-</accesslog><loglevel>2</loglevel></logging>
  %s
</icecast>
`

const mountBlock = `<mount><mount-name>%s</mount-name><username>` + srcUser + `</username><password>` + srcPass + `</password></mount>`

// startIcecast runs icecast2 on 127.0.0.1 with a mount block (source
// credentials srcUser/srcPass) for each of mounts, and waits until it
// answers. It is killed, with its process group, when the test ends.
func startIcecast(t testing.TB, clients int, mounts ...string) *icecast {
	t.Helper()
	bin := requireBinary(t, "icecast2")
	dir := icecastDir(t)
	port := freePort(t)
	var blocks []string
	for _, m := range mounts {
		blocks = append(blocks, fmt.Sprintf(mountBlock, m))
	}
	security := ""
	if os.Geteuid() == 0 {
		security = `<security><chroot>0</chroot><changeowner><user>icecast2</user><group>icecast</group></changeowner></security>`
	}
	cfg := fmt.Sprintf(icecastConfig, clients, "globalsrc-"+srcPass, "relay-"+srcPass, "admin-"+srcPass,
		port, strings.Join(blocks, "\n  "), dir, dir, security)
	cfgPath := filepath.Join(dir, "icecast.xml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", cfgPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logf, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting icecast2: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() { killGroup(cmd, exited) })
	ic := &icecast{addr: fmt.Sprintf("127.0.0.1:%d", port), port: port, kill: func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}}
	ic.waitReady(t, exited, filepath.Join(dir, "stderr.log"))
	return ic
}

// icecastDir makes a directory that the icecast2 user can write to.
func icecastDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "httpfe-icecast-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("icecast2")
		if err != nil {
			t.Fatalf("icecast2 user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// killGroup stops a process group started by a test: SIGTERM, then SIGKILL
// after 5 s.
func killGroup(cmd *exec.Cmd, exited <-chan struct{}) {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

func (ic *icecast) waitReady(t testing.TB, exited <-chan struct{}, logPath string) {
	t.Helper()
	end := time.Now().Add(10 * time.Second)
	for time.Now().Before(end) {
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("icecast2 exited during start-up:\n%s", log)
		default:
		}
		if _, err := ic.stats(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("icecast2 on %s not ready after 10s", ic.addr)
}

// sourceStats is one mount in Icecast's /status-json.xsl.
type sourceStats struct {
	ListenURL string `json:"listenurl"`
	Listeners int    `json:"listeners"`
	Title     string `json:"title"`
}

// stats returns the mounts that have a source, by mount path.
func (ic *icecast) stats() (map[string]sourceStats, error) {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + ic.addr + "/status-json.xsl")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var doc struct {
		Icestats struct {
			Source json.RawMessage `json:"source"`
		} `json:"icestats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, fmt.Errorf("status-json.xsl: %w", err)
	}
	var list []sourceStats
	raw := doc.Icestats.Source
	switch {
	case len(raw) == 0:
	case raw[0] == '[':
		err = json.Unmarshal(raw, &list)
	default:
		var one sourceStats
		err = json.Unmarshal(raw, &one)
		list = append(list, one)
	}
	out := map[string]sourceStats{}
	for _, s := range list {
		if i := strings.Index(s.ListenURL, "://"); i >= 0 {
			rest := s.ListenURL[i+3:]
			if j := strings.Index(rest, "/"); j >= 0 {
				out[rest[j:]] = s
			}
		}
	}
	return out, err
}

// waitFor polls cond every 20 ms until it holds or ctx ends.
func waitFor(ctx context.Context, t testing.TB, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitSource waits until mount has a live source on ic.
func (ic *icecast) waitSource(ctx context.Context, t testing.TB, mount string) {
	t.Helper()
	waitFor(ctx, t, "a source on "+mount, func() bool {
		st, err := ic.stats()
		_, ok := st[mount]
		return err == nil && ok
	})
}

// listeners returns the listener count of mount (-1 without a source).
func (ic *icecast) listeners(mount string) int {
	st, err := ic.stats()
	if s, ok := st[mount]; err == nil && ok {
		return s.Listeners
	}
	return -1
}

// startFFmpeg runs ffmpeg with args in its own process group, writing its
// output to stdout (nil: discarded), until the test ends.
func startFFmpeg(t testing.TB, stdout io.Writer, args ...string) {
	t.Helper()
	bin := requireBinary(t, "ffmpeg")
	cmd := exec.Command(bin, append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting ffmpeg: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { killGroup(cmd, exited) })
}

// decodeErrors decodes an audio file with ffmpeg and returns what ffmpeg
// reported as errors (empty: the file decodes cleanly).
func decodeErrors(ctx context.Context, t testing.TB, path string) string {
	t.Helper()
	bin := requireBinary(t, "ffmpeg")
	cmd := exec.CommandContext(ctx, bin, "-nostdin", "-v", "error", "-i", path, "-f", "null", "-")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Sprintf("ffmpeg: %v\n%s", err, out)
	}
	return string(out)
}

// killSource disconnects mount's source through ic's admin interface, as
// radiod does.
func (ic *icecast) killSource(t testing.TB, mount string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+ic.addr+"/admin/killsource?mount="+mount, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", "admin-"+srcPass)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("killsource %s: %v", mount, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("killsource %s: %s", mount, resp.Status)
	}
}
