package bench

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// WrkResult is what a wrk run reports.
type WrkResult struct {
	RequestsPerSec float64
	// Failures are non-2xx/3xx answers and socket errors.
	Failures float64
}

var (
	wrkRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// ParseWrk reads wrk's text output.
func ParseWrk(out string) (WrkResult, error) {
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return WrkResult{}, fmt.Errorf("wrk: no Requests/sec in %q", out)
	}
	var r WrkResult
	r.RequestsPerSec, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseFloat(m[1], 64)
		r.Failures += n
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		// Read errors are how wrk sees the server close a
		// Connection: close connection; they are not failures.
		for _, i := range []int{1, 3, 4} {
			n, _ := strconv.ParseFloat(m[i], 64)
			r.Failures += n
		}
	}
	return r, nil
}

// DNSPerfResult is what a dnsperf run reports.
type DNSPerfResult struct {
	QPS  float64
	Lost float64
}

var (
	dnsperfQPS  = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)
	dnsperfLost = regexp.MustCompile(`Queries lost:\s+(\d+)`)
)

// ParseDNSPerf reads dnsperf's text output.
func ParseDNSPerf(out string) (DNSPerfResult, error) {
	m := dnsperfQPS.FindStringSubmatch(out)
	if m == nil {
		return DNSPerfResult{}, fmt.Errorf("dnsperf: no queries per second in %q", out)
	}
	var r DNSPerfResult
	r.QPS, _ = strconv.ParseFloat(m[1], 64)
	if m := dnsperfLost.FindStringSubmatch(out); m != nil {
		r.Lost, _ = strconv.ParseFloat(m[1], 64)
	}
	return r, nil
}

// ParseDNSPerfLatencies reads the latency, in seconds, of every answer
// that dnsperf -v reports ("> NOERROR radio.test A 0.000268").
func ParseDNSPerfLatencies(out string) []float64 {
	var lat []float64
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "> ") {
			continue
		}
		f := strings.Fields(l)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			lat = append(lat, v)
		}
	}
	return lat
}

// ParseGoBench reads `go test -bench -benchmem` output of one package
// run -count times, returning one entry per benchmark in first-seen
// order.
func ParseGoBench(pkg, out string) []GoBench {
	var list []GoBench
	index := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
		}
		vals := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err == nil {
				vals[f[i+1]] = v
			}
		}
		ns, ok := vals["ns/op"]
		if !ok {
			continue
		}
		i, seen := index[name]
		if !seen {
			i = len(list)
			index[name] = i
			list = append(list, GoBench{Pkg: pkg, Name: name})
		}
		b := &list[i]
		b.NsOp = append(b.NsOp, ns)
		b.BOp = append(b.BOp, vals["B/op"])
		b.Allocs = append(b.Allocs, vals["allocs/op"])
		for unit, v := range vals {
			switch unit {
			case "ns/op", "B/op", "allocs/op":
				continue
			}
			if b.Metrics == nil {
				b.Metrics = map[string][]float64{}
			}
			b.Metrics[unit] = append(b.Metrics[unit], v)
		}
	}
	return list
}
