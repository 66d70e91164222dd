package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Results is everything one `make bench` run measured.
type Results struct {
	Commit   string
	Started  time.Time
	Duration time.Duration
	Machine  string
	// Load is the machine's load average at the start and end of the run.
	Load string
	Runs int
	// ToolSeconds is the length of each wrk and dnsperf run, FanoutWindow
	// the measurement window of each fan-out run after its ramp-up.
	ToolSeconds, FanoutWindow float64
	FanoutRate, FanoutSettle  float64
	// Sections hold the side-by-side comparisons, in the order.
	Redirects []Compare
	DNS       []Compare
	// DNSProfile and RedirectProfile are the top of redirectord's CPU
	// profile under dnsperf and under wrk (keep-alive).
	DNSProfile, RedirectProfile string
	Fanout                      []FanoutRun
	// TLS is the TLS fan-out: the same listeners over HTTPS through
	// nginx and through redirectord, both terminating TLS; TLSRate is its
	// listeners' start rate, TLSSessions what each server negotiated
	// with the load client ("nginx: TLS 1.3, TLS_AES_128_GCM_SHA256,
	// X25519").
	TLS         []FanoutRun
	TLSRate     float64
	TLSSessions []string
	Converge    []float64 // seconds from create-mount to audio, per mount and node
	Failover    []FailoverRun
	Internals   []GoBench
	// HLS are httpfe's per-listener benchmarks of HLS and /_stream/.
	HLS  []GoBench
	Etcd *EtcdLoad
	// Problems are sections that could not run, with the reason.
	Problems []string
}

// Compare is one figure measured for autoradio and for a reference server
// in the same run, once per repetition.
type Compare struct {
	Name    string
	Unit    string
	RefName string
	Ours    []float64
	Ref     []float64
	// Target is the target as a minimum ratio (0: none), or as
	// a maximum when AtMost (a latency: lower is better).
	Target float64
	AtMost bool
	// Failures counts answers that were not the expected ones (non-3xx
	// HTTP answers, lost DNS queries), ours and the reference's.
	OursFailures, RefFailures float64
}

// Ratio is median(ours) / median(ref).
func (c Compare) Ratio() float64 {
	r := Median(c.Ref)
	if r == 0 {
		return 0
	}
	return Median(c.Ours) / r
}

// FanoutRun is one run of N listeners against one target.
type FanoutRun struct {
	Target    string // "icecast", "nginx" or "autoradio"
	Listeners int
	Kept      int
	Errors    int64
	// Disconnects counts streams that ended before the run.
	Disconnects int64
	// BytesMedian and BytesMin are bytes/s per kept listener.
	BytesMedian, BytesMin float64
	// ProxyCPU is CPU-seconds per listener-minute and ProxyKiB the RSS
	// growth per listener of the proxy (0 for Icecast direct);
	// IcecastCPU and IcecastKiB the same for Icecast.
	ProxyCPU, ProxyKiB, IcecastCPU, IcecastKiB float64
}

// FailoverRun is one kill of the master's host, or one planned stop of
// its radiod (Stopped).
type FailoverRun struct {
	Stopped      bool    // SIGTERM to the master's radiod rather than a kill of its host
	NewMaster    float64 // seconds from the kill to a new elected master
	SourceBack   float64 // seconds to the source live on the new master
	AudioBack    float64 // seconds to decodable audio on every surviving node
	Listeners    int     // relay listeners attached before the kill
	Disconnected int64   // of which were disconnected
	// FrontendGap and FrontendSilence are, for the front-end listener
	// worst off since the fault, its longest time without data and its
	// longest silence heard, in seconds: its time without audio is their
	// sum.
	FrontendGap, FrontendSilence float64
	FrontendListeners            int // listeners through the surviving front-ends
	FrontendDropped              int // of which lost their stream
}

// FrontendWithoutAudio is the worst front-end listener's time without
// audio: no data plus silence heard.
func (f FailoverRun) FrontendWithoutAudio() float64 { return f.FrontendGap + f.FrontendSilence }

// GoBench is a Go benchmark's medians over its -count runs.
type GoBench struct {
	Pkg, Name         string
	NsOp, BOp, Allocs []float64
	// Metrics are the values of its b.ReportMetric units, by unit.
	Metrics map[string][]float64
}

// EtcdLoad is the etcd writes over a steady-state window.
type EtcdLoad struct {
	Seconds   float64
	Nodes     int
	Writes    int64            // etcd revisions in the window
	PerKey    map[string]int64 // puts seen by a watch, by key prefix class
	Listeners int              // listener connections opened and closed
}

// Median of xs (0 for none).
func Median(xs []float64) float64 {
	return Quantile(xs, 0.5)
}

// Quantile is the q-quantile of xs by the nearest-rank method.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if q == 0.5 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// Fanout reference figures (FIELD-NOTES), per proxy target.
const (
	refNginxCPU = 0.011
	maxProxyKiB = 16
)

// FanoutCounts are the listener counts of the fan-out comparison.
var FanoutCounts = []int{500, 1000, 2000, 5000}

// FanoutTargets are its targets, in the order they are reported.
var FanoutTargets = []string{"icecast", "nginx", "autoradio"}

// fanoutMedian summarises the fan-out runs of one target and count.
func (r *Results) fanoutMedian(target string, n int) (FanoutRun, int) {
	return medianRun(r.Fanout, target, n)
}

// medianRun summarises the runs of one target and count of all.
func medianRun(all []FanoutRun, target string, n int) (FanoutRun, int) {
	var runs []FanoutRun
	for _, f := range all {
		if f.Target == target && f.Listeners == n {
			runs = append(runs, f)
		}
	}
	med := func(get func(FanoutRun) float64) float64 {
		xs := make([]float64, len(runs))
		for i, f := range runs {
			xs[i] = get(f)
		}
		return Median(xs)
	}
	m := FanoutRun{Target: target, Listeners: n,
		Kept:        int(med(func(f FanoutRun) float64 { return float64(f.Kept) })),
		Errors:      int64(med(func(f FanoutRun) float64 { return float64(f.Errors) })),
		Disconnects: int64(med(func(f FanoutRun) float64 { return float64(f.Disconnects) })),
		BytesMedian: med(func(f FanoutRun) float64 { return f.BytesMedian }),
		BytesMin:    med(func(f FanoutRun) float64 { return f.BytesMin }),
		ProxyCPU:    med(func(f FanoutRun) float64 { return f.ProxyCPU }),
		ProxyKiB:    med(func(f FanoutRun) float64 { return f.ProxyKiB }),
		IcecastCPU:  med(func(f FanoutRun) float64 { return f.IcecastCPU }),
		IcecastKiB:  med(func(f FanoutRun) float64 { return f.IcecastKiB }),
	}
	return m, len(runs)
}

// WritePlotData writes the fan-out medians as columns for gnuplot:
// listeners, then CPU-s per listener-minute and KiB per listener of
// Icecast direct, the nginx proxy and autoradio's proxy.
func (r *Results) WritePlotData(w io.Writer) {
	fmt.Fprintln(w, "# listeners icecast_cpu nginx_cpu autoradio_cpu icecast_kib nginx_kib autoradio_kib")
	for _, n := range FanoutCounts {
		ic, k := r.fanoutMedian("icecast", n)
		ng, _ := r.fanoutMedian("nginx", n)
		ar, _ := r.fanoutMedian("autoradio", n)
		if k == 0 {
			continue
		}
		fmt.Fprintf(w, "%d %.6f %.6f %.6f %.2f %.2f %.2f\n", n,
			ic.IcecastCPU, ng.ProxyCPU, ar.ProxyCPU, ic.IcecastKiB, ng.ProxyKiB, ar.ProxyKiB)
	}
}

// PlotScript is the gnuplot script that draws the data of WritePlotData
// (file data) into the PNG file png.
func PlotScript(data, png string) string {
	return fmt.Sprintf(`set terminal pngcairo size 1000,420 font ",10" noenhanced
set output %[1]q
set multiplot layout 1,2 title "Listener fan-out, 128 kbit/s MP3 (medians; proxies exclude Icecast behind them)"
set logscale x 2
set xtics (500, 1000, 2000, 5000)
set xlabel "listeners"
set key top right
set grid
set ylabel "CPU-seconds per listener-minute"
set yrange [0:*]
plot %[2]q using 1:2 with linespoints title "Icecast direct", \
     %[2]q using 1:3 with linespoints title "nginx proxy_pass", \
     %[2]q using 1:4 with linespoints title "autoradio /_stream/"
set ylabel "RSS KiB per listener"
plot %[2]q using 1:5 with linespoints title "Icecast direct", \
     %[2]q using 1:6 with linespoints title "nginx proxy_pass", \
     %[2]q using 1:7 with linespoints title "autoradio /_stream/"
unset multiplot
`, png, data)
}

func met(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**missed**"
}

func f3(x float64) string { return fmt.Sprintf("%.3g", x) }

// WriteMarkdown writes docs/BENCHMARKS.md.
func (r *Results) WriteMarkdown(w io.Writer, plot string) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# Benchmarks\n\n")
	p("Generated by `make bench` (bench/run) on %s, commit `%s`, in %s.\n", r.Started.UTC().Format("2006-01-02 15:04 UTC"), r.Commit, r.Duration.Round(time.Second))
	p("Machine: %s. **The machine is shared** with other work, which skews absolute\n", r.Machine)
	p("figures: compare the ratios, measured side by side in the same run, not the\n")
	p("numbers across runs. Everything runs on loopback, the load client on the same\n")
	p("machine as the servers. Each figure is the median of %d runs unless stated.\n", r.Runs)
	p("nginx (2 workers, `worker_processes auto`) and Knot DNS (default threads) run\n")
	p("with the bench's own configuration; autoradio with its defaults. Runs are\n")
	p("shorter than the issue suggests (30 s per fan-out run) so that the whole\n")
	p("bench fits in 20 minutes.\n\n")
	if r.Load != "" {
		p("Load average (1, 5, 15 min) of the machine: %s.\n\n", r.Load)
	}
	r.writeTargets(p)
	r.writeCompare(p, fmt.Sprintf("1. Redirects (wrk -t 2 -c 64, %.0f s per run)", r.ToolSeconds), r.Redirects)
	r.writeProfile(p, "Redirect", "wrk with keep-alive", r.RedirectProfile)
	r.writeCompare(p, fmt.Sprintf("2. DNS (dnsperf -c 10, %.0f s per run; apex A, stream A and SOA in turn)", r.ToolSeconds), r.DNS)
	r.writeProfile(p, "DNS", "dnsperf", r.DNSProfile)
	r.writeFanout(p, plot)
	r.writeTLS(p)
	r.writeConverge(p)
	r.writeFailover(p)
	r.writeInternals(p)
	r.writeEtcd(p)
	r.writeHLS(p)
	if len(r.Problems) > 0 {
		p("## Problems in this run\n\n")
		for _, s := range r.Problems {
			p("- %s\n", s)
		}
		p("\n")
	}
}

func (r *Results) writeTargets(p func(string, ...any)) {
	p("## Targets\n\n| target | measured | |\n| --- | --- | --- |\n")
	for _, c := range append(slices.Clone(r.Redirects), r.DNS...) {
		switch {
		case c.Target > 0 && c.AtMost:
			p("| %s ≤ %.2g× %s | %.2f× | %s |\n", c.Name, c.Target, c.RefName, c.Ratio(), met(c.Ratio() <= c.Target))
		case c.Target > 0:
			p("| %s ≥ %.2g× %s | %.2f× | %s |\n", c.Name, c.Target, c.RefName, c.Ratio(), met(c.Ratio() >= c.Target))
		}
	}
	for _, c := range r.DNS[:min(len(r.DNS), 1)] {
		if c.Target > 0 {
			q := Median(c.Ours)
			p("| %s ≥ 57k qps (1.2× CoreDNS-class) | %.0f qps | %s |\n", c.Name, q, met(q >= 57000))
		}
	}
	if len(r.Fanout) > 0 {
		r.writeFanoutTargets(p)
	}
	r.writeTLSTarget(p)
	if len(r.Converge) > 0 {
		p95 := Quantile(r.Converge, 0.95)
		p("| convergence p95 ≤ 1 s | %.2f s | %s |\n", p95, met(p95 <= 1))
	}
	if len(r.Failover) > 0 {
		var nm []float64
		var disc int64
		for _, f := range r.Failover {
			nm = append(nm, f.NewMaster)
			disc += f.Disconnected
		}
		worst := slices.Max(nm)
		p("| new master ≤ 3 s | worst %.2f s of %d runs | %s |\n", worst, len(nm), met(worst <= 3))
		p("| 0 relay listeners disconnected | %d | %s |\n", disc, met(disc == 0))
		r.writeFailoverTargets(p)
	}
	for _, b := range r.Internals {
		if b.Pkg == "fe/lb" && b.Name == "Pick/weighted/nodes=100" {
			ns := Median(b.NsOp)
			p("| LB decision ≤ 2 µs at 100 nodes (weighted) | %.0f ns | %s |\n", ns, met(ns <= 2000))
		}
	}
	if e := r.Etcd; e != nil && e.Seconds > 0 {
		w := float64(e.Writes) / e.Seconds / float64(e.Nodes)
		p("| etcd ≤ 1 write/s/node | %.2f | %s |\n", w, met(w <= 1))
	}
	p("\n")
}

// writeFanoutTargets compares the proxies' CPU at the largest listener
// count nginx held (95% kept), since past it Icecast's listen backlog
// rather than the proxy limits nginx; memory and holding 5,000 at the top.
func (r *Results) writeFanoutTargets(p func(string, ...any)) {
	top, fair := 0, 0
	for _, n := range FanoutCounts {
		ng, k := r.fanoutMedian("nginx", n)
		if k == 0 {
			continue
		}
		top = n
		if float64(ng.Kept) >= 0.95*float64(n) {
			fair = n
		}
	}
	if fair > 0 {
		ar, _ := r.fanoutMedian("autoradio", fair)
		ng, _ := r.fanoutMedian("nginx", fair)
		ratio := ar.ProxyCPU / ng.ProxyCPU
		p("| proxy CPU ≤ 1.0× nginx (%d listeners, the most nginx held) | %.2f× (%.4f vs %.4f cpu-s/listener-min) | %s |\n", fair, ratio, ar.ProxyCPU, ng.ProxyCPU, met(ratio <= 1))
	}
	ar, _ := r.fanoutMedian("autoradio", top)
	ng, _ := r.fanoutMedian("nginx", top)
	if ng.ProxyCPU > 0 {
		p("| proxy CPU ≤ 1.0× nginx (%d listeners; nginx kept %d) | %.2f× | %s |\n", top, ng.Kept, ar.ProxyCPU/ng.ProxyCPU, met(ar.ProxyCPU <= ng.ProxyCPU))
	}
	p("| ≤ %d KiB per proxied listener (%d) | %.1f KiB | %s |\n", maxProxyKiB, top, ar.ProxyKiB, met(ar.ProxyKiB <= maxProxyKiB))
	starved := ar.Kept < 5000 || ar.BytesMin < 16000*0.9
	p("| 5,000 proxied listeners held, none starved | %d of %d kept, slowest %.0f B/s (stream 16,000 B/s) | %s |\n", ar.Kept, top, ar.BytesMin, met(!starved))
}

func (r *Results) writeCompare(p func(string, ...any), title string, cs []Compare) {
	if len(cs) == 0 {
		return
	}
	p("## %s\n\n| | autoradio | reference | ratio | runs (autoradio / reference) |\n| --- | --- | --- | --- | --- |\n", title)
	for _, c := range cs {
		p("| %s | %.0f %s | %.0f %s (%s) | **%.2f×** | %s / %s |\n", c.Name, Median(c.Ours), c.Unit, Median(c.Ref), c.Unit, c.RefName,
			c.Ratio(), joinF(c.Ours), joinF(c.Ref))
	}
	p("\n")
	for _, c := range cs {
		if c.OursFailures > 0 || c.RefFailures > 0 {
			p("%s: unexpected answers or lost queries, autoradio %.0f, %s %.0f (over all runs).\n\n", c.Name, c.OursFailures, c.RefName, c.RefFailures)
		}
	}
}

func (r *Results) writeProfile(p func(string, ...any), what, tool, top string) {
	if top == "" {
		return
	}
	p("## %s profile (redirectord under %s)\n\n", what, tool)
	p("A CPU profile of redirectord during one more %s run of the section\n", tool)
	p("above, sorted by own (flat) time, then by cumulative time.\n\n")
	p("```\n%s```\n\n", top)
}

func joinF(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(s, ", ")
}

func (r *Results) writeFanout(p func(string, ...any), plot string) {
	if len(r.Fanout) == 0 {
		return
	}
	p("## 3. Listener fan-out (128 kbit/s MP3 = 16,000 B/s)\n\n")
	p("Icecast direct, through nginx `proxy_pass` (`proxy_buffering off`) and through\n")
	p("redirectord's `/_stream/`. \"proxy\" columns are the proxy alone; \"Icecast\" is\n")
	p("the Icecast behind it. CPU in CPU-seconds per listener-minute, memory as RSS\n")
	p("growth per listener (KiB) from before the first listener to the end.\n")
	p("Listeners start at %.0f/s and are measured over %.0f s that start %.0f s after\n", r.FanoutRate, r.FanoutWindow, r.FanoutSettle)
	p("the last one started. Icecast listens with a backlog of 5: at that rate the\n")
	p("kernel drops many of the connections to Icecast (from the listeners directly,\n")
	p("or from nginx for each of its listeners) and they are retried, up to 5 times,\n")
	p("or time out: that is the difference between listeners and kept, and the\n")
	p("errors column. redirectord opens one connection to Icecast per mount.\n")
	p("Per-listener figures divide by the listeners kept.\n")
	p("The proxies are restarted before each run so that memory freed by a previous\n")
	p("run does not hide a new run's growth; Icecast is not, so its per-listener\n")
	p("memory after the first run is an underestimate for every target alike.\n\n")
	p("| listeners | target | kept | disconnects | errors | B/s per listener (median / min) | proxy cpu-s/l-min | proxy KiB/l | Icecast cpu-s/l-min | Icecast KiB/l | runs |\n")
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, n := range FanoutCounts {
		for _, t := range FanoutTargets {
			m, k := r.fanoutMedian(t, n)
			if k == 0 {
				continue
			}
			proxyCPU, proxyKiB := "–", "–"
			if t != "icecast" {
				proxyCPU, proxyKiB = fmt.Sprintf("%.4f", m.ProxyCPU), fmt.Sprintf("%.1f", m.ProxyKiB)
			}
			p("| %d | %s | %d | %d | %d | %.0f / %.0f | %s | %s | %.4f | %.1f | %d |\n", n, t, m.Kept, m.Disconnects, m.Errors,
				m.BytesMedian, m.BytesMin, proxyCPU, proxyKiB, m.IcecastCPU, m.IcecastKiB, k)
		}
	}
	p("\nRatios autoradio / nginx (proxy alone):\n\n| listeners | CPU | memory |\n| --- | --- | --- |\n")
	for _, n := range FanoutCounts {
		ar, k := r.fanoutMedian("autoradio", n)
		ng, _ := r.fanoutMedian("nginx", n)
		if k == 0 || ng.ProxyCPU == 0 || ng.ProxyKiB == 0 {
			continue
		}
		p("| %d | %.2f× | %.2f× |\n", n, ar.ProxyCPU/ng.ProxyCPU, ar.ProxyKiB/ng.ProxyKiB)
	}
	p("\nWhere nginx kept fewer listeners than started, its connections to Icecast were\n")
	p("still in the kernel's SYN retries: its figures there are per listener kept and\n")
	p("compare less well. Icecast's own RSS barely grows per listener after the first\n")
	p("run (memory reused from earlier runs).\n")
	p("\nReference (FIELD-NOTES, same machine kind): Icecast direct ≈ 0.0053 cpu-s/l-min and ≈ 2 KiB/l;\n")
	p("nginx ≈ %.3f and ≈ 17 KiB; a naive httputil.ReverseProxy ≈ 0.017 and ≈ 82 KiB.\n\n", refNginxCPU)
	if plot != "" {
		p("![CPU and memory per listener against listener count](%s)\n\n", plot)
	}
}

func (r *Results) writeConverge(p func(string, ...any)) {
	if len(r.Converge) == 0 {
		return
	}
	p("## 4. Convergence (3-node loopback cluster)\n\n")
	p("%d mounts created one by one, each with an ffmpeg source (128 kbit/s MP3)\n", len(r.Converge)/3)
	p("already retrying against the master's Icecast; for each, the time from\n")
	p("`CreateMount` in etcd until every node's Icecast reports the mount live (the\n")
	p("master: the source is connected; the others: the relay runs). A capture from\n")
	p("every node then decodes with ffmpeg. %d samples (mount × node).\n\n", len(r.Converge))
	p("| p50 | p95 | max |\n| --- | --- | --- |\n| %.2f s | %.2f s | %.2f s |\n\n",
		Quantile(r.Converge, 0.5), Quantile(r.Converge, 0.95), slices.Max(r.Converge))
}

// writeFailoverTargets holds the front-end listeners' worst time without
// audio to the targets: ≤ 0.5 s for a planned stop of the master,
// ≤ 3 s for a kill of its host.
func (r *Results) writeFailoverTargets(p func(string, ...any)) {
	for _, c := range []struct {
		stopped bool
		what    string
		target  float64
	}{{true, "planned stop", 0.5}, {false, "kill", 3}} {
		worst, n, dropped := 0.0, 0, 0
		for _, f := range r.Failover {
			if f.Stopped == c.stopped && f.FrontendListeners > 0 {
				worst, n, dropped = max(worst, f.FrontendWithoutAudio()), n+1, dropped+f.FrontendDropped
			}
		}
		if n > 0 {
			p("| front-end listeners without audio, master %s ≤ %.1f s, none dropped | worst %.2f s of %d runs, %d dropped | %s |\n",
				c.what, c.target, worst, n, dropped, met(worst <= c.target && dropped == 0))
		}
	}
}

func (r *Results) writeFailover(p func(string, ...any)) {
	if len(r.Failover) == 0 {
		return
	}
	p("## 5. Failover (3-node loopback cluster, %d runs)\n\n", len(r.Failover))
	p("Runs alternate between killing the master's host (radiod, Icecast and\n")
	p("redirectord, SIGKILL) and stopping the master's radiod as `systemctl stop`\n")
	p("does (SIGTERM: it hands the master role over before it stops; its\n")
	p("redirectord keeps running), while listeners are attached to the other two\n")
	p("nodes' Icecast relays and the source pushes through a surviving node's\n")
	p("front-end, which holds it and moves it to the new master. The nodes'\n")
	p("session TTL is 3 s (radiod's default is 5 s): after a kill, the dead\n")
	p("master's lease must expire before another node can win, so the TTL is the\n")
	p("floor of the time to a new master; a stopped master resigns at once.\n")
	p("\"Source live on new master\": its Icecast was seen without the mount (its\n")
	p("relay gone), then with the source; \"audio on every node\": then every\n")
	p("surviving node's Icecast serves the mount live (polled every 50 ms).\n")
	p("Relay listeners only say whether Icecast kept them connected; what a\n")
	p("listener hears is measured on %d listeners through each surviving node's\n", perFrontendListeners(r.Failover))
	p("front-end (its `/_stream/` of the mount, where its redirects send a player\n")
	p("in proxy mode), playing before the fault and kept until audio is back on\n")
	p("every node plus 5 s of the stream. \"Without audio\" is, for the worst of\n")
	p("them, its longest time without data after the fault plus the longest\n")
	p("silence (below -50 dBFS for 0.2 s or more, ffmpeg's silencedetect) in what\n")
	p("it received after the fault: an upper bound of what a person hears, since\n")
	p("a player's buffer hides short stalls. \"Dropped\": their stream ended.\n\n")
	p("Before the front-ends held sources (commit 01ce2b4, 2026-11-24, 5 kills):\n")
	p("new master 2.42-3.21 s, source live on the new master 3.92-4.93 s, audio\n")
	p("on every node 4.37-5.38 s, 0 of 100 relay listeners disconnected.\n\n")
	p("Before nodes stepped aside for a handover and the fan-out moved between\n")
	p("nodes (commit dfb71d6, 2026-11-30, 3 planned stops and 3 kills; front-end\n")
	p("listeners not measured): planned stop: new master 0.05 s, source live on\n")
	p("the new master 1.50-2.06 s, audio on every node 1.62-2.06 s; kill: new\n")
	p("master 2.61-2.86 s, source live 4.52-5.07 s, audio on every node\n")
	p("4.52-5.08 s; 0 of 120 relay listeners disconnected.\n\n")
	p("| run | master | new master | source live on new master | audio on every node | relay listeners | disconnected |" +
		" front-end listeners: without audio (no data + silence) | front-end listeners dropped |\n")
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for i, f := range r.Failover {
		how := "host killed"
		if f.Stopped {
			how = "radiod stopped"
		}
		p("| %d | %s | %.2f s | %.2f s | %.2f s | %d | %d | %.2f s (%.2f + %.2f) | %d of %d |\n", i+1, how,
			f.NewMaster, f.SourceBack, f.AudioBack, f.Listeners, f.Disconnected,
			f.FrontendWithoutAudio(), f.FrontendGap, f.FrontendSilence, f.FrontendDropped, f.FrontendListeners)
	}
	p("\n")
}

// perFrontendListeners is how many front-end listeners each surviving
// node had: the runs' count over the two survivors.
func perFrontendListeners(runs []FailoverRun) int {
	for _, f := range runs {
		if f.FrontendListeners > 0 {
			return f.FrontendListeners / 2
		}
	}
	return 0
}

func (r *Results) writeInternals(p func(string, ...any)) {
	if len(r.Internals) == 0 {
		return
	}
	p("## 6. Internals (Go benchmarks, `-benchmem`, medians of %d)\n\n", len(r.Internals[0].NsOp))
	p("| package | benchmark | ns/op | B/op | allocs/op |\n| --- | --- | --- | --- | --- |\n")
	for _, b := range r.Internals {
		p("| %s | %s | %s | %.0f | %.0f |\n", b.Pkg, b.Name, f3(Median(b.NsOp)), Median(b.BOp), Median(b.Allocs))
	}
	p("\n")
}

// writeHLS sets what an HLS listener costs the front-end beside a
// /_stream/ listener, from the same run.
func (r *Results) writeHLS(p func(string, ...any)) {
	var stream, hls *GoBench
	for i, b := range r.HLS {
		switch b.Name {
		case "ProxiedListeners":
			stream = &r.HLS[i]
		case "HLSListeners":
			hls = &r.HLS[i]
		}
	}
	if stream == nil || hls == nil {
		return
	}
	m := func(b *GoBench, unit string) float64 { return Median(b.Metrics[unit]) }
	p("## 8. HLS beside /_stream/ (1,000 listeners of a 128 kbit/s MP3, in process; medians of %d)\n\n", len(hls.NsOp))
	p("`go test -bench 'ProxiedListeners|HLSListeners' ./fe/httpfe`. A `/_stream/` listener's cost excludes the\n")
	p("client's (measured apart and subtracted); an HLS listener's includes its HTTP client (an upper bound),\n")
	p("which reloads the media playlist every target duration (4 s) and fetches each segment.\n\n")
	p("| | KiB per listener | process CPU-s per listener-minute |\n| --- | --- | --- |\n")
	p("| `/_stream/` | %.1f | %.4f |\n", m(stream, "KiB/listener"), m(stream, "process-CPU-s/listener-minute"))
	p("| HLS | %.1f | %.4f |\n\n", m(hls, "KiB/listener"), m(hls, "process-CPU-s/listener-minute"))
	p("Newest segment listed %.2f s after the end of its audio (median); players start about three\n", m(hls, "newest-segment-lag-s"))
	p("segments (12 s) behind that.\n\n")
}

func (r *Results) writeEtcd(p func(string, ...any)) {
	e := r.Etcd
	if e == nil {
		return
	}
	p("## 7. etcd load\n\n")
	p("%d nodes (radiod and redirectord each), %.0f s of steady state while %d listener\n", e.Nodes, e.Seconds, e.Listeners)
	p("connections were opened and closed across the nodes. Writes are etcd\n")
	p("revisions over the window; the watch on `/icecast/` tells whose they were.\n\n")
	p("| writes | writes/s | writes/s/node |\n| --- | --- | --- |\n| %d | %.2f | %.2f |\n\n",
		e.Writes, float64(e.Writes)/e.Seconds, float64(e.Writes)/e.Seconds/float64(e.Nodes))
	keys := make([]string, 0, len(e.PerKey))
	for k := range e.PerKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	p("| key | puts and deletes |\n| --- | --- |\n")
	for _, k := range keys {
		p("| `%s` | %d |\n", k, e.PerKey[k])
	}
	p("\n")
}

// TLSTargets are the TLS fan-out's targets, in the order they are
// reported: both terminate TLS in front of the same Icecast.
var TLSTargets = []string{"nginx", "autoradio"}

// tlsListeners is the listener count of the TLS fan-out runs (one count).
func (r *Results) tlsListeners() int {
	if len(r.TLS) == 0 {
		return 0
	}
	return r.TLS[0].Listeners
}

func (r *Results) writeTLSTarget(p func(string, ...any)) {
	n := r.tlsListeners()
	ar, k := medianRun(r.TLS, "autoradio", n)
	ng, _ := medianRun(r.TLS, "nginx", n)
	if k == 0 || ng.ProxyCPU == 0 {
		return
	}
	ratio := ar.ProxyCPU / ng.ProxyCPU
	p("| TLS fan-out CPU ≤ 1.0× nginx TLS (%d listeners over HTTPS) | %.2f× (%.4f vs %.4f cpu-s/listener-min) | %s |\n", n, ratio, ar.ProxyCPU, ng.ProxyCPU, met(ratio <= 1))
}

func (r *Results) writeTLS(p func(string, ...any)) {
	if len(r.TLS) == 0 {
		return
	}
	n := r.tlsListeners()
	p("## 3.1. TLS fan-out (%d listeners over HTTPS, 128 kbit/s MP3)\n\n", n)
	p("The same listeners over HTTPS through nginx terminating TLS (`ssl`, then\n")
	p("`proxy_pass` to Icecast, `proxy_buffering off`) and through redirectord's\n")
	p("`--https-addr` `/_stream/`, both in front of the same Icecast, in the same\n")
	p("run, in alternating order. Both serve the same ECDSA P-256 certificate of a\n")
	p("test CA made for the run; the load client trusts only that CA and offers\n")
	p("TLS 1.3 only, X25519 only (Go would otherwise offer the X25519MLKEM768\n")
	p("hybrid, which Debian 12's OpenSSL lacks) and HTTP/1.1 only (no ALPN).\n")
	p("nginx is limited to TLS 1.3 with `TLS_AES_128_GCM_SHA256` and X25519,\n")
	p("what Go picks on a CPU with AES instructions. Every listener makes a full\n")
	p("handshake: the client keeps no session cache, so neither server resumes a\n")
	p("session, though both issue tickets (their defaults). The handshakes fall\n")
	p("into the ramp-up (listeners start at %.0f/s); CPU and memory are measured\n", r.TLSRate)
	p("as in the fan-out section, over %.0f s that start %.0f s after the last\n", r.FanoutWindow, r.FanoutSettle)
	p("listener started: the cost of encrypting the streams. Proxies are\n")
	p("restarted before each run. As without TLS, nginx opens one connection to\n")
	p("Icecast per listener and redirectord one per mount: the proxy figures\n")
	p("include that, and Icecast's column shows what it costs behind each.\n\n")
	if len(r.TLSSessions) > 0 {
		p("Negotiated with the load client's configuration, checked once per server\n")
		p("before the runs: %s.\n\n", strings.Join(r.TLSSessions, "; "))
	}
	p("| target | kept | disconnects | errors | B/s per listener (median / min) | proxy cpu-s/l-min | proxy KiB/l | Icecast cpu-s/l-min | runs |\n")
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, t := range TLSTargets {
		m, k := medianRun(r.TLS, t, n)
		if k == 0 {
			continue
		}
		p("| %s | %d of %d | %d | %d | %.0f / %.0f | %.4f | %.1f | %.4f | %d |\n", t, m.Kept, n, m.Disconnects, m.Errors,
			m.BytesMedian, m.BytesMin, m.ProxyCPU, m.ProxyKiB, m.IcecastCPU, k)
	}
	ar, _ := medianRun(r.TLS, "autoradio", n)
	ng, _ := medianRun(r.TLS, "nginx", n)
	if ng.ProxyCPU > 0 && ng.ProxyKiB > 0 {
		p("\nRatio autoradio / nginx over TLS (proxy alone): CPU **%.2f×**, memory %.2f×.\n", ar.ProxyCPU/ng.ProxyCPU, ar.ProxyKiB/ng.ProxyKiB)
	}
	p("\nPer run (CPU-s per listener-minute, in run order): %s.\n\n", tlsRunList(r.TLS))
}

// tlsRunList lists every run's proxy CPU per target, so that the spread
// the medians hide on a loaded machine shows.
func tlsRunList(runs []FanoutRun) string {
	var parts []string
	for _, t := range TLSTargets {
		var xs []string
		for _, f := range runs {
			if f.Target == t {
				xs = append(xs, fmt.Sprintf("%.4f", f.ProxyCPU))
			}
		}
		if len(xs) > 0 {
			parts = append(parts, t+" "+strings.Join(xs, ", "))
		}
	}
	return strings.Join(parts, "; ")
}
