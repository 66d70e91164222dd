package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/etcdtest"
	"autoradio/internal/testenv"
)

// TestFrontEnds runs two whole nodes (radiod and redirectord) on
// 127.0.0.11 and 127.0.0.12, and a front-end with the proxy disabled on
// 127.0.0.13, with real etcd, icecast2, ffmpeg, curl and dig.
func TestFrontEnds(t *testing.T) {
	ct.Require(t)
	testenv.RequireBinaries(t, "curl", "dig")
	ctx := testenv.Context(t, 3*time.Minute)
	etcd := etcdtest.Start(t)
	c := autoradio.NewClient(etcd.Client(), nil)
	ips := []string{"127.0.0.11", "127.0.0.12", "127.0.0.13"}
	icePort, httpPort, dnsPort := ct.FreePort(t, ips...), ct.FreePort(t, ips...), ct.FreePort(t, ips...)

	// Each radiod counts the listeners its front-end proxies.
	frontend := func(ip string) string { return "--http-addr=" + ip + ":" + strconv.Itoa(httpPort) }
	r1 := ct.StartRadiod(t, etcd.URL(), "n1", ips[0], icePort, frontend(ips[0]))
	ct.Master(t, c, 10*time.Second, r1)
	r2 := ct.StartRadiod(t, etcd.URL(), "n2", ips[1], icePort, frontend(ips[1]))
	ct.WaitNodesUp(t, c, 2, 10*time.Second)
	f1 := ct.StartRedirectord(t, etcd.URL(), "n1", ips[0], icePort, httpPort, dnsPort)
	f2 := ct.StartRedirectord(t, etcd.URL(), "n2", ips[1], icePort, httpPort, dnsPort)
	direct := ct.StartRedirectord(t, etcd.URL(), "n3", ips[2], icePort, httpPort, dnsPort, "--enable-icecast-proxy=false")

	m := ct.NewMount(t, "/live.ogg")
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	// The source pushes to the front-end of the node that is NOT master;
	// the stream arrives at the master (n1).
	audiotest.Source(t, ct.SourceURL(f2.IP+":"+strconv.Itoa(httpPort), m))
	r1.WaitSource(15*time.Second, m.Name)
	testenv.Eventually(t, 15*time.Second, func() error { return mountLiveOn(c, m.Name, 2) })

	t.Run("curl -L plays through the proxy", func(t *testing.T) {
		target := redirectTarget(t, f1.URL(m.Name+"?x=1"))
		if !slices.ContainsFunc(ips[:2], func(ip string) bool {
			return target == fmt.Sprintf("http://%s:%d/_stream%s?x=1", ip, httpPort, m.Name)
		}) {
			t.Errorf("redirect to %q, want a node's /_stream%s with the query kept", target, m.Name)
		}
		curlDecodes(t, ctx, f1.URL(m.Name))
	})
	t.Run("proxy disabled redirects to Icecast", func(t *testing.T) {
		target := redirectTarget(t, direct.URL(m.Name))
		if !slices.ContainsFunc(ips[:2], func(ip string) bool { return target == fmt.Sprintf("http://%s:%d%s", ip, icePort, m.Name) }) {
			t.Errorf("redirect to %q, want a node's Icecast", target)
		}
		curlDecodes(t, ctx, direct.URL(m.Name))
		req, _ := http.NewRequest(http.MethodPut, direct.URL(m.Name), strings.NewReader(""))
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := r1.URL(m.Name); resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != want {
			t.Errorf("PUT: %s to %q, want 307 to %s", resp.Status, resp.Header.Get("Location"), want)
		}
	})
	t.Run("a bad source password gets 401 through the proxy", func(t *testing.T) {
		code, err := ct.SourceStatus(f2.IP+":"+strconv.Itoa(httpPort), m.Name, m.Username, "wrong")
		if err != nil || code != http.StatusUnauthorized {
			t.Errorf("got %d, %v; want 401", code, err)
		}
	})
	t.Run("playlist", func(t *testing.T) {
		body := get(t, f1.URL(m.Name+".m3u"))
		if want := f1.URL(m.Name); !strings.Contains(body, want) {
			t.Errorf("m3u %q does not point at %s", body, want)
		}
	})
	t.Run("status pages show listeners and no password", func(t *testing.T) {
		l := audiotest.Listen(ctx, f1.URL(m.Name))
		defer l.Stop()
		testenv.Eventually(t, 10*time.Second, func() error {
			js := get(t, f2.URL("/_status.json"))
			if !strings.Contains(js, `"path": "`+m.Name+`"`) || !strings.Contains(js, `"listeners": 1`) {
				return fmt.Errorf("status does not show the listener: %s", js)
			}
			return nil
		})
		// Proxied listeners share one Icecast connection per node; the
		// nodes publish them one by one all the same.
		for range 3 {
			l := audiotest.Listen(ctx, f1.URL(m.Name))
			defer l.Stop()
		}
		testenv.Eventually(t, 10*time.Second, func() error {
			if n := publishedListeners(ctx, c, m.Name); n != 4 {
				return fmt.Errorf("the nodes publish %d listeners of %s, want 4", n, m.Name)
			}
			return nil
		})
		for _, page := range []string{get(t, f2.URL("/")), get(t, f2.URL("/_status.json"))} {
			if !strings.Contains(page, m.Name) {
				t.Errorf("status page lacks %s", m.Name)
			}
			if strings.Contains(page, m.Password) || strings.Contains(page, m.Username) {
				t.Error("status page shows source credentials")
			}
		}
	})
	t.Run("DNS follows node presence", func(t *testing.T) {
		got := digA(t, f1.IP, dnsPort)
		if !slices.Equal(got, ips[:2]) {
			t.Fatalf("radio.test A = %v, want %v", got, ips[:2])
		}
		// n2 dies: its presence expires and DNS stops giving it out.
		f2.Proc.Kill()
		r2.Proc.Kill()
		r2.KillIcecast()
		died := time.Now()
		testenv.Eventually(t, ct.SessionTTL+5*time.Second, func() error {
			if got := digA(t, f1.IP, dnsPort); !slices.Equal(got, ips[:1]) {
				return fmt.Errorf("radio.test A = %v", got)
			}
			return nil
		})
		t.Logf("dead node gone from DNS after %v (session TTL %v)", time.Since(died).Round(time.Millisecond), ct.SessionTTL)
	})
}

// mountLiveOn checks that n nodes report a live source for mount.
func mountLiveOn(c *autoradio.Client, mount string, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	nodes, err := c.ListNodes(ctx)
	if err != nil {
		return err
	}
	live := 0
	for _, st := range nodes {
		if ms, ok := st.Mount(mount); ok && ms.SourceConnected {
			live++
		}
	}
	if live < n {
		return fmt.Errorf("%s live on %d of %d nodes", mount, live, n)
	}
	return nil
}

var noRedirect = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func redirectTarget(t *testing.T, url string) string {
	t.Helper()
	resp, err := noRedirect.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: %s, want 302", url, resp.Status)
	}
	return resp.Header.Get("Location")
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := noRedirect.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(body)
}

// curlDecodes has the real curl follow the front-end's redirect for 4 s and
// checks that what it got decodes; curlArgs go to curl too.
func curlDecodes(t *testing.T, ctx context.Context, url string, curlArgs ...string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "capture")
	args := append([]string{"-sS", "-L", "--max-time", "4", "-o", file}, curlArgs...)
	err := exec.CommandContext(ctx, "curl", append(args, url)...).Run()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 28) { // 28: --max-time reached
		t.Fatalf("curl -L %s: %v", url, err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := audiotest.Decode(ctx, data, 2*time.Second); err != nil {
		t.Errorf("curl -L %s: %v", url, err)
	}
}

// digA asks the front-end at ip for radio.test's A records with dig.
func digA(t *testing.T, ip string, port int) []string {
	t.Helper()
	out, err := exec.Command("dig", "@"+ip, "-p", strconv.Itoa(port), "+short", "+norec", "+time=2", "+tries=1", "radio.test", "A").Output()
	if err != nil {
		t.Fatalf("dig: %v", err)
	}
	addrs := strings.Fields(string(out))
	slices.Sort(addrs)
	return addrs
}

// publishedListeners adds up the listeners of mount that the nodes publish.
func publishedListeners(ctx context.Context, c *autoradio.Client, mount string) int {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	nodes, err := c.ListNodes(ctx)
	if err != nil {
		return -1
	}
	n := 0
	for _, st := range nodes {
		if ms, ok := st.Mount(mount); ok {
			n += ms.Listeners
		}
	}
	return n
}
