package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// TestMonitoring checks radiod's /metrics, /healthz and /debug/node on a
// node serving a mount with a source and a listener.
func TestMonitoring(t *testing.T) {
	ctx, etcd, c := setup(t, 60*time.Second)
	monitor := "127.0.0.11:" + strconv.Itoa(ct.FreePort(t, "127.0.0.11"))
	n1 := ct.StartRadiod(t, etcd.URL(), "n1", "127.0.0.11", ct.FreePort(t, "127.0.0.11"), "--monitor-addr", monitor)
	ct.Master(t, c, 10*time.Second, n1)
	// Icecast runs before the mount exists, so that adding it is a reload.
	testenv.Eventually(t, 10*time.Second, func() error { _, err := n1.Status(); return err })
	m := createMount(t, ctx, c, "/live.ogg")
	audiotest.Source(t, ct.SourceURL(n1.Addr(), m))
	n1.WaitSource(10*time.Second, m.Name)
	l := audiotest.Listen(ctx, n1.URL(m.Name))
	defer l.Stop()

	testenv.Eventually(t, 10*time.Second, func() error {
		metrics, err := scrape("http://" + monitor + "/metrics")
		if err != nil {
			return err
		}
		for name, want := range map[string]float64{
			"autoradio_icecast_up":                                1,
			"autoradio_is_master":                                 1,
			`autoradio_mount_listeners{mount="/live.ogg"}`:        1,
			`autoradio_mount_source_connected{mount="/live.ogg"}`: 1,
			"autoradio_icecast_config_reloads_total":              1,
		} {
			if got, ok := metrics[name]; !ok || got < want {
				return fmt.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		// One live silence mount per mount without a fallback of its own.
		if got := metrics["autoradio_icecast_silence_feeds"]; got != 1 {
			return fmt.Errorf("autoradio_icecast_silence_feeds = %v, want 1 (the test's one mount)", got)
		}
		return nil
	})
	if body, code := fetch(t, "http://"+monitor+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d %s", code, body)
	}
	body, code := fetch(t, "http://"+monitor+"/debug/node")
	if code != http.StatusOK || !strings.Contains(body, "master") || !strings.Contains(body, m.Name) {
		t.Errorf("/debug/node: %d %s", code, body)
	}
	for _, page := range []string{body, mustFetch(t, "http://"+monitor+"/metrics")} {
		if strings.Contains(page, m.Password) {
			t.Error("a monitoring page shows a source password")
		}
	}
}

// scrape reads a Prometheus text page into "name{labels}" -> value, and
// lints its metric names.
func scrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	var list []*dto.MetricFamily
	for _, f := range families {
		list = append(list, f)
	}
	problems, err := promlint.NewWithMetricFamilies(list).Lint()
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("metric lint: %v", problems)
	}
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			key := name
			if len(m.GetLabel()) > 0 {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			}
		}
	}
	return out, nil
}

func fetch(t *testing.T, url string) (string, int) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(body), resp.StatusCode
}

func mustFetch(t *testing.T, url string) string {
	body, _ := fetch(t, url)
	return body
}
