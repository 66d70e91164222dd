//go:build bench

package bench

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"autoradio"
	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/etcdtest"
	"autoradio/internal/loadgen"
	"autoradio/internal/testenv"
)

// Addresses of the one-node set-up: autoradio, nginx and Knot each on
// their own loopback address, with the same ports.
var frontendIPs = flag.String("bench.frontend-ips", "127.0.0.41,127.0.0.42,127.0.0.43",
	"loopback addresses of the front-end sections: autoradio's node, nginx and Knot DNS")

// nodeIP, nginxIP and knotIP are set from -bench.frontend-ips by setupFrontend.
var nodeIP, nginxIP, knotIP string

const (
	mount  = "/bench.mp3"
	domain = "radio.test"
)

// frontend is one autoradio node (radiod, Icecast, redirectord) with a
// live 128 kbit/s MP3 mount, and nginx in front of the same Icecast.
type frontend struct {
	t                          *testing.T
	etcdURL                    string
	radiod                     *ct.Radiod
	fe                         *ct.Redirectord
	nginx                      *nginx
	nginxConf, nginxDir        string
	icePort, httpPort, dnsPort int
	proxyPort, monitorPort     int
}

func benchFrontend(t *testing.T, res *Results) {
	f := setupFrontend(t)
	child(t, "redirects", func(t *testing.T) { f.redirects(t, res) })
	child(t, "dns", func(t *testing.T) { f.dns(t, res) })
	child(t, "fanout", func(t *testing.T) { f.fanout(t, res) })
}

func setupFrontend(t *testing.T) *frontend {
	ctx := context.Background()
	ips := strings.Split(*frontendIPs, ",")
	if len(ips) != 3 {
		t.Fatalf("-bench.frontend-ips %q: want 3 addresses", *frontendIPs)
	}
	nodeIP, nginxIP, knotIP = ips[0], ips[1], ips[2]
	etcd := etcdtest.Start(t)
	c := autoradio.NewClient(etcd.Client(), nil)
	f := &frontend{t: t, etcdURL: etcd.URL()}
	f.icePort, f.httpPort, f.dnsPort, f.proxyPort = ct.FreePort(t, ips...), ct.FreePort(t, ips...), ct.FreePort(t, ips...), ct.FreePort(t, ips...)
	f.monitorPort = ct.FreePort(t, nodeIP)
	// The balancer counts listeners sent since the last status against
	// the node's limit: a high one keeps 17k redirects/s from filling it.
	f.radiod = ct.StartRadiod(t, f.etcdURL, "bench1", nodeIP, f.icePort, "--max-listeners", "200000")
	track(t, f.radiod.Proc.PID())
	ct.Master(t, c, 15*time.Second, f.radiod)
	m := ct.NewMount(t, mount)
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	src := audiotest.Source(t, ct.SourceURL(f.radiod.Addr(), m))
	track(t, src.PID())
	f.radiod.WaitSource(20*time.Second, mount)
	track(t, f.radiod.IcecastPID())
	f.startFrontend()

	f.nginxDir = filepath.Join(work(t), "nginx")
	f.nginxConf = nginxConfig(f.nginxDir, f.nginxAddr(f.httpPort), "http://"+net.JoinHostPort(nodeIP, strconv.Itoa(f.httpPort))+"/_stream",
		f.nginxAddr(f.proxyPort), f.radiod.Addr())
	f.restartNginx()
	if err := expect302(f.nginxURL(mount)); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *frontend) nginxAddr(port int) string { return net.JoinHostPort(nginxIP, strconv.Itoa(port)) }
func (f *frontend) nginxURL(path string) string {
	return "http://" + f.nginxAddr(f.httpPort) + path
}

// startFrontend (re)starts redirectord.
func (f *frontend) startFrontend() {
	if f.fe != nil {
		f.fe.Proc.Kill()
	}
	// The monitor address serves /debug/pprof/ for the DNS profile.
	f.fe = ct.StartRedirectord(f.t, f.etcdURL, "bench1", nodeIP, f.icePort, f.httpPort, f.dnsPort,
		"--monitor-addr", net.JoinHostPort(nodeIP, strconv.Itoa(f.monitorPort)))
	track(f.t, f.fe.Proc.PID())
	// It answers HTTP before it has read the mounts and nodes from etcd.
	testenv.Eventually(f.t, 15*time.Second, func() error { return expect302(f.fe.URL(mount)) })
}

func (f *frontend) restartNginx() {
	if f.nginx != nil {
		f.nginx.proc.Kill()
	}
	f.nginx = startNginx(f.t, f.nginxDir, f.nginxConf, f.nginxAddr(f.httpPort))
}

var noFollow = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func expect302(url string) error {
	resp, err := noFollow.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return fmt.Errorf("GET %s: %s, want 302", url, resp.Status)
	}
	return nil
}

// compare runs ours and the reference alternately, runs times, the order
// swapped every run so that drift in the machine's load hits both.
func compare(t *testing.T, c *Compare, ours, ref func() (float64, float64, error)) {
	for i := range *runs {
		fs := []func() (float64, float64, error){ours, ref}
		dst := [][]float64{nil, nil}
		fails := []*float64{&c.OursFailures, &c.RefFailures}
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, j := range order {
			v, fail, err := fs[j]()
			if err != nil {
				t.Errorf("%s: %v", c.Name, err)
				return
			}
			dst[j] = append(dst[j], v)
			*fails[j] += fail
		}
		c.Ours = append(c.Ours, dst[0]...)
		c.Ref = append(c.Ref, dst[1]...)
	}
}

func (f *frontend) redirects(t *testing.T, res *Results) {
	wrk := func(url string, close bool) func() (float64, float64, error) {
		return func() (float64, float64, error) {
			args := []string{"-t", "2", "-c", "64", "-d", strconv.Itoa(int(toolRun.Seconds())) + "s", "--timeout", "5s"}
			if close {
				args = append(args, "-H", "Connection: close")
			}
			out, err := run(context.Background(), *toolRun+30*time.Second, "wrk", append(args, url)...)
			if err != nil {
				return 0, 0, err
			}
			r, err := ParseWrk(out)
			return r.RequestsPerSec, r.Failures, err
		}
	}
	for _, mode := range []struct {
		name   string
		close  bool
		target float64
	}{{"new connection per request (Connection: close)", true, 0.9}, {"keep-alive", false, 0.75}} {
		c := Compare{Name: "redirect, " + mode.name, Unit: "req/s", RefName: "nginx return 302", Target: mode.target}
		compare(t, &c, wrk(f.fe.URL(mount), mode.close), wrk(f.nginxURL(mount), mode.close))
		res.Redirects = append(res.Redirects, c)
	}
	if *profiles {
		res.RedirectProfile = f.profile(t, wrk(f.fe.URL(mount), false))
	}
}

func (f *frontend) dns(t *testing.T, res *Results) {
	ours := net.JoinHostPort(nodeIP, strconv.Itoa(f.dnsPort))
	knotAddr := net.JoinHostPort(knotIP, strconv.Itoa(f.dnsPort))
	zone := zoneOf(t, ours, domain, []dns.Question{
		{Name: domain, Qtype: dns.TypeSOA}, {Name: domain, Qtype: dns.TypeNS},
		{Name: domain, Qtype: dns.TypeA}, {Name: "stream." + domain, Qtype: dns.TypeA},
		{Name: "bench1." + domain, Qtype: dns.TypeA},
	})
	knot := startKnot(t, filepath.Join(work(t), "knot"), knotAddr, domain, zone)
	queries := filepath.Join(work(t), "dnsperf-queries")
	mix := domain + " A\nstream." + domain + " A\n" + domain + " SOA\n"
	if err := os.WriteFile(queries, []byte(mix), 0o644); err != nil {
		t.Fatal(err)
	}
	dnsperf := func(addr string) func() (float64, float64, error) {
		host, port, _ := net.SplitHostPort(addr)
		return func() (float64, float64, error) {
			out, err := run(context.Background(), *toolRun+30*time.Second, "dnsperf", "-s", host, "-p", port,
				"-d", queries, "-c", "10", "-l", strconv.Itoa(int(toolRun.Seconds())))
			if err != nil {
				return 0, 0, err
			}
			r, err := ParseDNSPerf(out)
			return r.QPS, r.Lost, err
		}
	}
	c := Compare{Name: "DNS queries", Unit: "qps", RefName: "Knot DNS", Target: 1}
	compare(t, &c, dnsperf(ours), dnsperf(knotAddr))
	res.DNS = append(res.DNS, c)
	// Latency at a rate both sustain, from dnsperf -v's per-answer lines.
	latency := func(addr string) func() (float64, float64, error) {
		host, port, _ := net.SplitHostPort(addr)
		return func() (float64, float64, error) {
			out, err := run(context.Background(), *toolRun+30*time.Second, "dnsperf", "-s", host, "-p", port,
				"-d", queries, "-c", "10", "-Q", strconv.Itoa(latencyRate), "-l", strconv.Itoa(int(toolRun.Seconds())), "-v")
			if err != nil {
				return 0, 0, err
			}
			lat := ParseDNSPerfLatencies(out)
			if len(lat) == 0 {
				return 0, 0, fmt.Errorf("dnsperf -v: no answers")
			}
			r, _ := ParseDNSPerf(out)
			return Quantile(lat, 0.99) * 1e6, r.Lost, nil
		}
	}
	lat := Compare{Name: fmt.Sprintf("DNS p99 latency at %d qps", latencyRate), Unit: "µs", RefName: "Knot DNS", Target: 1, AtMost: true}
	compare(t, &lat, latency(ours), latency(knotAddr))
	res.DNS = append(res.DNS, lat)
	// Both servers on one core (the load client still on all of them).
	servers := []int{f.fe.Proc.PID(), knot.PID()}
	if err := pin(servers, "0"); err != nil {
		t.Errorf("DNS on one core: %v", err)
	} else {
		one := Compare{Name: "DNS queries, servers on 1 core", Unit: "qps", RefName: "Knot DNS", Target: 1}
		compare(t, &one, dnsperf(ours), dnsperf(knotAddr))
		res.DNS = append(res.DNS, one)
	}
	if err := pin(servers, fmt.Sprintf("0-%d", runtime.NumCPU()-1)); err != nil {
		t.Errorf("DNS back on every core: %v", err)
	}
	if *profiles {
		res.DNSProfile = f.profile(t, dnsperf(ours))
	}
}

var profiles = flag.Bool("bench.profiles", true, "profile redirectord's CPU during one more wrk and dnsperf run and put the top of the profiles in the report")

// latencyRate is the query rate of the latency comparison: well under
// what either server answers on this machine.
const latencyRate = 20000

// pin sets the CPU affinity of every thread of the processes.
func pin(pids []int, cpus string) error {
	for _, pid := range pids {
		if _, err := run(context.Background(), 10*time.Second, "taskset", "-a", "-p", "-c", cpus, strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// profile takes a CPU profile of redirectord while load runs, and returns
// the top of it by flat and by cumulative time.
func (f *frontend) profile(t *testing.T, load func() (float64, float64, error)) string {
	secs := int(toolRun.Seconds())
	prof := filepath.Join(work(t), t.Name()[strings.LastIndexByte(t.Name(), '/')+1:]+".pprof")
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", net.JoinHostPort(nodeIP, strconv.Itoa(f.monitorPort)), max(secs-1, 1))
	done := make(chan error, 1)
	go func() {
		_, err := run(context.Background(), *toolRun+30*time.Second, "curl", "-fsS", "-o", prof, url)
		done <- err
	}()
	qps, _, lerr := load()
	if err := <-done; err != nil || lerr != nil {
		t.Errorf("profile: %v %v", err, lerr)
		return ""
	}
	bin := testenv.Binary(t, "redirectord")
	var out strings.Builder
	fmt.Fprintf(&out, "%.0f per second during the profile.\n\n", qps)
	for _, sort := range []string{"-flat", "-cum"} {
		top, err := run(context.Background(), time.Minute, "go", "tool", "pprof", "-top", sort, "-nodecount=25", bin, prof)
		if err != nil {
			t.Errorf("pprof: %v", err)
			return ""
		}
		out.WriteString(trimPprof(top))
		out.WriteString("\n")
	}
	return out.String()
}

// trimPprof drops pprof's preamble lines (file, build ID, time) but the
// totals.
func trimPprof(top string) string {
	var keep []string
	for _, l := range strings.Split(top, "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Type:") || strings.HasPrefix(l, "Time:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// fanout measures N listeners of the mount on Icecast directly, through
// nginx and through redirectord's /_stream/.
func (f *frontend) fanout(t *testing.T, res *Results) {
	ctx := context.Background()
	counts := intList(*fanoutCounts)
	for rep := range *runs {
		for _, n := range counts {
			for k := range FanoutTargets {
				target := FanoutTargets[(k+rep)%len(FanoutTargets)]
				fr, err := f.fanoutRun(ctx, target, n)
				if err != nil {
					t.Errorf("fan-out %s %d: %v", target, n, err)
					continue
				}
				t.Logf("fan-out %s %d: %+v", target, n, fr)
				res.Fanout = append(res.Fanout, fr)
			}
		}
	}
}

// Listeners start at fanoutRate per second; the window starts
// fanoutSettle after the last one started, so that connections Icecast's
// listen backlog (5) made the kernel retry (after 1 and 3 s) are in.
const (
	fanoutRate   = 1000
	fanoutSettle = 2 * time.Second
)

func (f *frontend) fanoutRun(ctx context.Context, target string, n int) (FanoutRun, error) {
	t0 := time.Now()
	f.waitNoListeners()
	defer func() { f.t.Logf("fan-out %s %d: %v in all", target, n, time.Since(t0).Round(time.Second)) }()
	icecastPID := f.radiod.IcecastPID()
	watch := []loadgen.Process{{Name: "icecast", PIDs: []int{icecastPID}}}
	var url string
	switch target {
	case "icecast":
		url = f.radiod.URL(mount)
	case "nginx":
		f.restartNginx()
		url = "http://" + f.nginxAddr(f.proxyPort) + mount
		watch = append(watch, loadgen.Process{Name: "proxy", PIDs: f.nginx.pids()})
	case "autoradio":
		f.startFrontend()
		url = f.fe.URL("/_stream" + mount)
		watch = append(watch, loadgen.Process{Name: "proxy", PIDs: []int{f.fe.Proc.PID()}})
	}
	ramp := time.Duration(float64(n-1) / fanoutRate * float64(time.Second))
	cfg := loadgen.Config{URL: url, Listeners: n, Rate: fanoutRate, Settle: fanoutSettle,
		Duration: ramp + fanoutSettle + *fanoutWindow, Retries: 5, Watch: watch}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration+time.Minute)
	defer cancel()
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return FanoutRun{}, err
	}
	fr := FanoutRun{Target: target, Listeners: n, Kept: rep.Kept, Errors: rep.Errors, Disconnects: rep.Disconnects,
		BytesMedian: rep.BytesPerSecond.Median, BytesMin: rep.BytesPerSecond.Min}
	for _, p := range rep.Processes {
		switch p.Name {
		case "icecast":
			fr.IcecastCPU, fr.IcecastKiB = p.CPUSecondsPerListenerMinute, p.RSSKiBPerListener
		case "proxy":
			fr.ProxyCPU, fr.ProxyKiB = p.CPUSecondsPerListenerMinute, p.RSSKiBPerListener
		}
	}
	if rep.Kept < n {
		f.t.Logf("fan-out %s %d: errors %v", target, n, rep.ErrorSamples)
	}
	return fr, nil
}

// waitNoListeners waits until the previous run's listeners have left
// Icecast, so that runs do not overlap.
func (f *frontend) waitNoListeners() {
	err := testenv.Poll(context.Background(), 30*time.Second, func() error {
		st, err := f.radiod.Status()
		if err != nil {
			return err
		}
		if ms, ok := st.Mount(mount); !ok || ms.Listeners > 0 || !ms.SourceConnected {
			return fmt.Errorf("mount %s: %+v", mount, ms)
		}
		return nil
	})
	if err != nil {
		f.t.Logf("before a fan-out run: %v", err)
	}
}
