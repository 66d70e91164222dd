//go:build bench

package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"autoradio/internal/testenv"
)

var (
	workDir      = flag.String("bench.work", "", "directory for configs, logs and the pid list (default: a temp dir)")
	docPath      = flag.String("bench.doc", "", "markdown report to write (e.g. docs/BENCHMARKS.md)")
	plotPath     = flag.String("bench.plot", "", "PNG plot to write (e.g. docs/bench-fanout.png), linked from the report")
	runs         = flag.Int("bench.runs", 3, "repetitions of each comparison")
	only         = flag.String("bench.only", "", SectionHelp())
	fanoutWindow = flag.Duration("bench.fanout-window", 5*time.Second, "measurement window of a fan-out run, after the ramp-up")
	fanoutCounts = flag.String("bench.fanout-counts", "500,1000,2000,5000", "listener counts of the fan-out runs")
	tlsListeners = flag.Int("bench.tls-listeners", 1000, "listeners of each TLS fan-out run")
	commitFlag   = flag.String("bench.commit", "", "what is measured (default: git HEAD and the uncommitted files)")
	toolRun      = flag.Duration("bench.tool-duration", 6*time.Second, "length of each wrk and dnsperf run")
)

func TestMain(m *testing.M) {
	flag.Parse()
	var err error
	if selected, err = ParseSections(*only); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	testenv.Cleanup()
	os.Exit(code)
}

// selected is the parsed -bench.only, set by TestMain.
var selected Selection

func want(section string) bool { return selected.Runs(section) }

// child runs a section inside its parent's set-up if it was selected.
func child(t *testing.T, name string, f func(t *testing.T)) {
	if want(name) {
		t.Run(name, f)
	}
}

// work is the directory the run writes into; bench/run reads its pid
// list to kill what is left if the test binary dies.
func work(t testing.TB) string {
	if *workDir == "" {
		*workDir = t.TempDir()
	}
	return *workDir
}

var pidMu sync.Mutex

// track records PIDs (process group leaders or not) for bench/run's trap.
func track(t testing.TB, pids ...int) {
	pidMu.Lock()
	defer pidMu.Unlock()
	f, err := os.OpenFile(filepath.Join(work(t), "pids"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Logf("pid list: %v", err)
		return
	}
	defer f.Close()
	for _, p := range pids {
		if p > 0 {
			fmt.Fprintln(f, p)
		}
	}
}

// start runs a program with testenv.Start and tracks it.
func start(t testing.TB, name string, args ...string) *testenv.Proc {
	t.Helper()
	p := testenv.Start(t, name, args...)
	track(t, p.PID())
	return p
}

// TestBench runs every comparison and writes the report, also when some
// section failed (the report then says which).
func TestBench(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("make bench runs as root (Icecast, nginx and the ulimit need it)")
	}
	load0 := loadAvg()
	res := &Results{Started: time.Now(), Commit: commit(), Machine: machine(), Runs: *runs,
		ToolSeconds: toolRun.Seconds(), FanoutWindow: fanoutWindow.Seconds(), FanoutRate: fanoutRate, FanoutSettle: fanoutSettle.Seconds()}
	section := func(name string, f func(t *testing.T, res *Results)) {
		if want(name) && !t.Run(name, func(t *testing.T) { f(t, res) }) {
			res.Problems = append(res.Problems, name+": failed, see the bench log (the figures above may lack it)")
		}
	}
	section("internals", benchInternals)
	section("frontend", benchFrontend)
	section("cluster", benchCluster)
	section("hls", benchHLS)
	res.Duration = time.Since(res.Started)
	res.Load = "at the start " + load0 + ", at the end " + loadAvg()
	writeReport(t, res)
}

func writeReport(t *testing.T, res *Results) {
	if *docPath == "" {
		var b bytes.Buffer
		res.WriteMarkdown(&b, "")
		t.Logf("report:\n%s", b.String())
		return
	}
	plot := ""
	if *plotPath != "" && len(res.Fanout) > 0 {
		data := filepath.Join(work(t), "fanout.dat")
		var b bytes.Buffer
		res.WritePlotData(&b)
		script := filepath.Join(work(t), "fanout.gp")
		os.WriteFile(data, b.Bytes(), 0o644)
		os.WriteFile(script, []byte(PlotScript(data, *plotPath)), 0o644)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "gnuplot", script).CombinedOutput(); err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("gnuplot: %v: %s", err, out))
		} else if rel, err := filepath.Rel(filepath.Dir(*docPath), *plotPath); err == nil {
			plot = rel
		}
	}
	var b bytes.Buffer
	res.WriteMarkdown(&b, plot)
	report := b.String()
	if !selected.All() {
		// A subset run keeps the sections it did not measure.
		old, _ := os.ReadFile(*docPath)
		report = MergeReport(string(old), report, selected)
	}
	if err := os.WriteFile(*docPath, []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", *docPath)
}

// commit names the code measured: HEAD, and the files that differed from
// it (the binaries are built from the working tree).
func commit() string {
	if *commitFlag != "" {
		return *commitFlag
	}
	out, err := exec.Command("git", "log", "-1", "--format=%h %s").Output()
	if err != nil {
		return "unknown"
	}
	s := strings.TrimSpace(string(out))
	dirty, _ := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output()
	if d := strings.Fields(string(dirty)); len(d) > 0 {
		var files []string
		for i := 1; i < len(d); i += 2 {
			files = append(files, d[i])
		}
		s += "`, working tree with uncommitted changes in " + strings.Join(files, ", ") + " `"
	}
	return s
}

func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel, _ := exec.Command("uname", "-r").Output()
	return fmt.Sprintf("%d cores (%s), Linux %s, %s", runtime.NumCPU(), model, strings.TrimSpace(string(kernel)), runtime.Version())
}

// loadAvg is /proc/loadavg's three averages: other work on the machine.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// run executes a command with a timeout and returns its combined output.
func run(ctx context.Context, timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, tailOf(string(out), 2000))
	}
	return string(out), nil
}

func tailOf(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func intList(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}
