package bench

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseWrk(t *testing.T) {
	out := `Running 10s test @ http://127.0.0.41:8080/bench.mp3
  2 threads and 64 connections
  Socket errors: connect 0, read 120, write 2, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  13184.52
Transfer/sec:      2.64MB
`
	r, err := ParseWrk(out)
	if err != nil || r.RequestsPerSec != 13184.52 || r.Failures != 8 {
		t.Errorf("ParseWrk = %+v, %v; want 13184.52 req/s and 8 failures", r, err)
	}
	if _, err := ParseWrk("nothing"); err == nil {
		t.Error("ParseWrk accepted output without a rate")
	}
}

func TestParseDNSPerf(t *testing.T) {
	out := "  Queries sent:         850000\n  Queries lost:         12 (0.00%)\n  Queries per second:   85012.345678\n"
	r, err := ParseDNSPerf(out)
	if err != nil || r.QPS != 85012.345678 || r.Lost != 12 {
		t.Errorf("ParseDNSPerf = %+v, %v", r, err)
	}
}

func TestParseDNSPerfLatencies(t *testing.T) {
	out := "[Status] Sending queries\n> NOERROR radio.test A 0.000268\n> NXDOMAIN x.radio.test A 0.001500\n[Timeout] Query timed out\n"
	if got := ParseDNSPerfLatencies(out); len(got) != 2 || got[0] != 0.000268 || got[1] != 0.0015 {
		t.Errorf("ParseDNSPerfLatencies = %v", got)
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
BenchmarkPick/weighted/nodes=10-2   	 1000000	       120.0 ns/op	      0 B/op	       0 allocs/op
BenchmarkRender1000-2   	     100	  10000000 ns/op	 2000000 B/op	   30000 allocs/op	         3.296 KiB/listener
BenchmarkPick/weighted/nodes=10-2   	 1000000	       140.0 ns/op	      0 B/op	       0 allocs/op
PASS
`
	got := ParseGoBench("fe/lb", out)
	if len(got) != 2 || got[0].Name != "Pick/weighted/nodes=10" || Median(got[0].NsOp) != 130 || got[1].Allocs[0] != 30000 ||
		got[1].Metrics["KiB/listener"][0] != 3.296 || got[0].Metrics != nil {
		t.Errorf("ParseGoBench = %+v", got)
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	if Median(xs) != 3 || Quantile(xs, 0.95) != 5 || Median([]float64{1, 2}) != 1.5 || Median(nil) != 0 {
		t.Errorf("median %v, p95 %v", Median(xs), Quantile(xs, 0.95))
	}
}

func TestWriteMarkdownRatios(t *testing.T) {
	r := &Results{Runs: 3, Redirects: []Compare{{Name: "new connection", Unit: "req/s", RefName: "nginx",
		Ours: []float64{9000, 10000, 11000}, Ref: []float64{20000, 20000, 20000}, Target: 0.9}}}
	for _, n := range FanoutCounts {
		kept := n
		if n == 5000 {
			kept = 1000 // Icecast's backlog, not nginx, limited it
		}
		r.Fanout = append(r.Fanout, FanoutRun{Target: "nginx", Listeners: n, Kept: kept, ProxyCPU: 0.012, ProxyKiB: 30},
			FanoutRun{Target: "autoradio", Listeners: n, Kept: n, ProxyCPU: 0.006, ProxyKiB: 9, BytesMin: 15900})
	}
	var b bytes.Buffer
	r.WriteMarkdown(&b, "")
	for _, want := range []string{"0.50×", "**missed**", "machine is shared",
		"| proxy CPU ≤ 1.0× nginx (2000 listeners, the most nginx held) | 0.50×", "| 2000 | 0.50× | 0.30× |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestWriteMarkdownTLS(t *testing.T) {
	r := &Results{Runs: 3, TLSRate: 250, FanoutWindow: 5, FanoutSettle: 2,
		TLSSessions: []string{"nginx: TLS 1.3, TLS_AES_128_GCM_SHA256, X25519", "autoradio: TLS 1.3, TLS_AES_128_GCM_SHA256, X25519"}}
	for _, cpu := range []float64{0.014, 0.012, 0.013} {
		r.TLS = append(r.TLS, FanoutRun{Target: "nginx", Listeners: 1000, Kept: 1000, ProxyCPU: cpu, ProxyKiB: 50},
			FanoutRun{Target: "autoradio", Listeners: 1000, Kept: 1000, ProxyCPU: cpu / 2, ProxyKiB: 20})
	}
	var b bytes.Buffer
	r.WriteMarkdown(&b, "")
	got := b.String()
	for _, want := range []string{
		"| TLS fan-out CPU ≤ 1.0× nginx TLS (1000 listeners over HTTPS) | 0.50× (0.0065 vs 0.0130 cpu-s/listener-min) | **met** |",
		"## 3.1. TLS fan-out (1000 listeners over HTTPS",
		"| nginx | 1000 of 1000 | 0 | 0 | 0 / 0 | 0.0130 | 50.0 |", "| autoradio | 1000 of 1000 |",
		"CPU **0.50×**, memory 0.40×", "nginx 0.0140, 0.0120, 0.0130; autoradio 0.0070, 0.0060, 0.0065",
		"autoradio: TLS 1.3, TLS_AES_128_GCM_SHA256, X25519.", "start at 250/s",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	// Without TLS runs there is neither the section nor the target.
	b.Reset()
	(&Results{Runs: 3}).WriteMarkdown(&b, "")
	if strings.Contains(b.String(), "TLS") {
		t.Errorf("report without TLS runs mentions TLS:\n%s", b.String())
	}
}

func TestWriteFailover(t *testing.T) {
	r := &Results{Failover: []FailoverRun{
		{NewMaster: 2.6, SourceBack: 3.1, AudioBack: 3.2, Listeners: 20, FrontendGap: 1.5, FrontendSilence: 0.25, FrontendListeners: 4},
		{Stopped: true, NewMaster: 0.05, SourceBack: 1, AudioBack: 1.1, Listeners: 20, FrontendGap: 0.5, FrontendSilence: 0.25, FrontendListeners: 4, FrontendDropped: 1},
	}}
	var b bytes.Buffer
	r.WriteMarkdown(&b, "")
	for _, want := range []string{
		"| 1 | host killed | 2.60 s | 3.10 s | 3.20 s | 20 | 0 | 1.75 s (1.50 + 0.25) | 0 of 4 |",
		"| 2 | radiod stopped | 0.05 s | 1.00 s | 1.10 s | 20 | 0 | 0.75 s (0.50 + 0.25) | 1 of 4 |",
		"| front-end listeners without audio, master kill ≤ 3.0 s, none dropped | worst 1.75 s of 1 runs, 0 dropped | **met** |",
		"| front-end listeners without audio, master planned stop ≤ 0.5 s, none dropped | worst 0.75 s of 1 runs, 1 dropped | **missed** |",
		"measured on 2 listeners through each surviving node's",
		"commit dfb71d6",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
