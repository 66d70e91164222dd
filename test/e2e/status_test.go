package e2e

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"autoradio/fe/statuspage"
	"autoradio/internal/audiotest"
	"autoradio/internal/browsertest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// statusScreenshots, when set, is where TestStatusPage saves its
// screenshots (make screenshots sets it to docs/); else they go to a
// temporary directory.
const statusScreenshots = "AUTORADIO_SCREENSHOTS"

// TestStatusPage opens the status page of a real two-node cluster in
// headless Chromium, at a phone's width and a desktop's.
func TestStatusPage(t *testing.T) {
	ct.Require(t)
	browsertest.Require(t)
	ctx := testenv.Context(t, 3*time.Minute)
	p := startPair(t, []string{"127.0.0.101", "127.0.0.102"}, "--history-interval=1s")
	m, _ := p.liveMount(ctx, t, "/status.mp3", p.f1)
	// A listener on each node, so that both appear in the graphs.
	for _, f := range []string{p.addr(p.f1), p.addr(p.f2)} {
		l := audiotest.Listen(ctx, "http://"+f+"/_stream"+m.Name)
		defer l.Stop()
	}

	shots, err := filepath.Abs(cmp.Or(os.Getenv(statusScreenshots), t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	const title = `Tom & Jerry <live> — “Café” ♫`
	// The source's credentials go in the environment, not in the
	// arguments that a failure prints.
	t.Setenv("STATUS_SOURCE_AUTH", m.Username+":"+m.Password)
	out := browsertest.Script(ctx, t, "status.mjs", "http://"+p.feAddr()+"/", m.Name, title, shots)
	type layout struct {
		ScrollWidth int      `json:"scrollWidth"`
		InnerWidth  int      `json:"innerWidth"`
		Wide        []string `json:"wide"`
	}
	var got struct {
		Phone, PhoneAfter, Desktop, NoScript layout
		UpdateStatus                         int    `json:"updateStatus"`
		TitleMs                              int    `json:"titleMs"`
		NotReloaded                          bool   `json:"notReloaded"`
		TitleText                            string `json:"titleText"`
		DesktopTitle                         string `json:"desktopTitle"`
		NoScriptTitle                        string `json:"noScriptTitle"`
		DarkBackground                       string `json:"darkBackground"`
		Audio                                struct {
			CurrentTime float64 `json:"currentTime"`
			Paused      bool    `json:"paused"`
			Src         string  `json:"src"`
		} `json:"audio"`
		GraphPoints []int    `json:"graphPoints"`
		Requests    []string `json:"requests"`
		Errors      []string `json:"errors"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decoding %s: %v", out, err)
	}
	t.Logf("title shown %d ms after the update; audio at %.1f s from %s; graph points %v; requests %v",
		got.TitleMs, got.Audio.CurrentTime, got.Audio.Src, got.GraphPoints, got.Requests)
	for name, l := range map[string]layout{"390 px": got.Phone, "390 px, playing": got.PhoneAfter, "1400 px": got.Desktop, "390 px without JavaScript": got.NoScript} {
		if l.ScrollWidth > l.InnerWidth || len(l.Wide) > 0 {
			t.Errorf("at %s the page is %d px wide in a %d px viewport; wider elements: %v", name, l.ScrollWidth, l.InnerWidth, l.Wide)
		}
	}
	if got.UpdateStatus != 200 || got.TitleMs > 5000 || !got.NotReloaded {
		t.Errorf("title update answered %d, shown after %d ms (want within 5 s), page not reloaded: %v", got.UpdateStatus, got.TitleMs, got.NotReloaded)
	}
	if got.TitleText != title || got.DesktopTitle != title || got.NoScriptTitle != title {
		t.Errorf("title shown as %q, %q and, without JavaScript, %q; want %q", got.TitleText, got.DesktopTitle, got.NoScriptTitle, title)
	}
	if got.DarkBackground != "rgb(21, 23, 26)" {
		t.Errorf("background in a dark theme: %s", got.DarkBackground)
	}
	if got.Audio.Paused || got.Audio.CurrentTime <= 2 {
		t.Errorf("the player: %+v, want playing past 2 s", got.Audio)
	}
	if len(got.GraphPoints) != 2 || slices.Min(got.GraphPoints) < 3 {
		t.Errorf("graph points %v, want two graphs (total and the mount) of 3 points or more", got.GraphPoints)
	}
	// Everything comes from the cluster's own nodes.
	for _, r := range got.Requests {
		u, err := url.Parse(r)
		if err != nil || !slices.Contains(p.ips, u.Hostname()) {
			t.Errorf("the page requested %s, outside the cluster", r)
		}
	}
	if len(got.Errors) > 0 {
		t.Errorf("errors in the page: %v", got.Errors)
	}

	t.Run("dashboard and alert rules use metrics that exist", func(t *testing.T) {
		digA(t, p.ips[0], p.dnsPort) // so that the DNS metrics have a series
		have := map[string]bool{"up": true}
		for _, addr := range p.monitors {
			metrics, err := scrape("http://" + addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			for key := range metrics {
				name, _, _ := strings.Cut(key, "{")
				have[name] = true
			}
		}
		// Exported by the HTTPS front-end; not part of every build yet.
		pending := []string{"autoradio_tls_certificate_expiry_timestamp_seconds"}
		for _, file := range []string{"grafana-dashboard.json", "prometheus-alerts.yml"} {
			used := metricNames(t, filepath.Join("..", "..", "docs", file))
			if len(used) < 5 {
				t.Errorf("%s uses only %v", file, used)
			}
			for _, name := range used {
				if !have[name] && !slices.Contains(pending, name) {
					t.Errorf("%s uses %s, which neither radiod nor redirectord exports", file, name)
				}
			}
		}
	})

	t.Run("a restarted front-end goes on with the history", func(t *testing.T) {
		before := historyOf(t, p.f1)
		if span := time.Since(time.Unix(before.Points[0].T, 0)); span < 10*time.Second {
			t.Fatalf("the history spans only %s", span)
		}
		p.f1.Proc.Stop(10 * time.Second)
		restart := time.Now().Unix()
		f1 := ct.StartRedirectord(t, p.etcd.URL(), "n1", p.ips[0], p.r1.Port, p.httpPort, p.dnsPort, "--history-interval=1s")
		testenv.Eventually(t, 20*time.Second, func() error {
			after := historyOf(t, f1)
			// The other front-end started with this one: what it
			// has goes back to before the restart.
			if after.Points[0].T > restart-5 {
				return fmt.Errorf("history of %d points from %d after the restart at %d; before, %d from %d",
					len(after.Points), after.Points[0].T, restart, len(before.Points), before.Points[0].T)
			}
			return nil
		})
	})
}

// historyOf reads front-end f's listener history.
func historyOf(t *testing.T, f *ct.Redirectord) statuspage.HistoryData {
	t.Helper()
	var d statuspage.HistoryData
	if err := json.Unmarshal([]byte(get(t, f.URL(statuspage.HistoryPath))), &d); err != nil {
		t.Fatalf("%s's history: %v", f.Name, err)
	}
	return d
}

// metricNames are the metric names that the queries in file use.
func metricNames(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	if strings.HasSuffix(file, ".json") {
		exprs = regexp.MustCompile(`"expr": "((?:[^"\\]|\\.)*)"`).FindAllString(string(data), -1)
	} else {
		exprs = regexp.MustCompile(`(?m)^\s*expr: (.*)$`).FindAllString(string(data), -1)
	}
	var out []string
	for _, e := range exprs {
		for _, name := range regexp.MustCompile(`\b(autoradio_[a-z0-9_]+|up)\b`).FindAllString(e, -1) {
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// TestAlertRules checks the alert rules with Prometheus's own promtool:
// they parse, and they fire (or not) on the series of docs' unit tests.
func TestAlertRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs promtool")
	}
	testenv.MustHaveBinaries(t, "promtool")
	rules, _ := filepath.Abs(filepath.Join("..", "..", "docs", "prometheus-alerts.yml"))
	for _, args := range [][]string{
		{"check", "rules", rules},
		{"test", "rules", filepath.Join("testdata", "prometheus-alerts-test.yml")},
	} {
		out, err := exec.Command("promtool", args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
