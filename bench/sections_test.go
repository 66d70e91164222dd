package bench

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestParseSections(t *testing.T) {
	for _, tc := range []struct {
		only string
		runs []string
	}{
		{"", []string{"internals", "frontend", "redirects", "dns", "fanout", "tls", "cluster", "convergence", "failover", "etcd", "hls"}},
		{"redirects,dns", []string{"frontend", "redirects", "dns"}},
		{"frontend", []string{"frontend", "redirects", "dns", "fanout", "tls"}},
		{"internals, failover", []string{"internals", "cluster", "failover"}},
	} {
		sel, err := ParseSections(tc.only)
		if err != nil {
			t.Errorf("ParseSections(%q): %v", tc.only, err)
			continue
		}
		if got := sel.Names(); !slices.Equal(got, tc.runs) {
			t.Errorf("ParseSections(%q) runs %v, want %v", tc.only, got, tc.runs)
		}
	}
	for _, bad := range []string{"dsn", "redirects,frontends", "all"} {
		if _, err := ParseSections(bad); err == nil || !strings.Contains(err.Error(), "frontend (redirects,dns,fanout,tls)") {
			t.Errorf("ParseSections(%q) = %v, want an error naming the sections", bad, err)
		}
	}
}

// report renders r as WriteMarkdown does.
func report(r *Results) string {
	var b bytes.Buffer
	r.WriteMarkdown(&b, "")
	return b.String()
}

func TestMergeReport(t *testing.T) {
	full := &Results{Runs: 3, Commit: "aaa old", Redirects: []Compare{{Name: "redirect, keep-alive", Unit: "req/s", RefName: "nginx",
		Ours: []float64{100}, Ref: []float64{200}, Target: 0.75}},
		DNS:      []Compare{{Name: "DNS queries", Unit: "qps", RefName: "Knot DNS", Ours: []float64{30000}, Ref: []float64{90000}, Target: 0.8}},
		Converge: []float64{0.5, 0.7, 1.2}, Problems: []string{"cluster: failed, see the log", "frontend: failed, see the log"}}
	sub := &Results{Runs: 1, Commit: "bbb new",
		DNS:        []Compare{{Name: "DNS queries", Unit: "qps", RefName: "Knot DNS", Ours: []float64{99000}, Ref: []float64{90000}, Target: 1}},
		DNSProfile: "flat profile\n", Problems: []string{"dns: lost 3 queries"}}
	sel, err := ParseSections("dns")
	if err != nil {
		t.Fatal(err)
	}
	got := MergeReport(report(full), report(sub), sel)
	for _, want := range []string{
		"commit `bbb new`", "> This run measured only dns. The other sections come from earlier runs:", "> - everything else: the run on 0001-01-01 00:00 UTC, commit `aaa old`, in 0s.",
		"| 99000 qps |", "| DNS queries ≥ 1× Knot DNS | 1.10× | **met** |", // the new DNS figures
		"redirect, keep-alive ≥ 0.75× nginx | 0.50×", "## 1. Redirects", "## 4. Convergence", // kept
		"- cluster: failed", "- dns: lost 3 queries",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("merged report lacks %q:\n%s", want, got)
		}
	}
	for _, gone := range []string{"30000 qps", "0.8× Knot", "- frontend: failed"} {
		if strings.Contains(got, gone) {
			t.Errorf("merged report still has %q:\n%s", gone, got)
		}
	}
	if strings.Index(got, "## 1. Redirects") > strings.Index(got, "## 2. DNS") || strings.Index(got, "## 2. DNS") > strings.Index(got, "## DNS profile") ||
		strings.Index(got, "## DNS profile") > strings.Index(got, "## 4. Convergence") {
		t.Errorf("merged report has its sections out of order:\n%s", got)
	}
	// A later subset run names, for each section it kept, the run that
	// measured it.
	sub2 := &Results{Runs: 1, Commit: "ccc newer", Redirects: full.Redirects}
	sel2, _ := ParseSections("redirects,fanout")
	again := MergeReport(got, report(sub2), sel2)
	for _, want := range []string{"commit `ccc newer`", "> This run measured only redirects, fanout.",
		"> - dns: the run on 0001-01-01 00:00 UTC, commit `bbb new`, in 0s.", "> - everything else: the run on 0001-01-01 00:00 UTC, commit `aaa old`, in 0s."} {
		if !strings.Contains(again, want) {
			t.Errorf("second merge lacks %q:\n%s", want, again)
		}
	}
	if strings.Count(again, "> This run measured only") != 1 {
		t.Errorf("second merge has two notes:\n%s", again)
	}
	// One that measures dns again drops it from the earlier runs.
	third := MergeReport(again, report(sub), sel)
	if strings.Contains(third, "> - dns:") || !strings.Contains(third, "> - redirects, fanout: the run on 0001-01-01 00:00 UTC, commit `ccc newer`") {
		t.Errorf("third merge:\n%s", third)
	}
	// A numbered section the old report lacks goes in its number's
	// place, not after the targets it follows in a subset report.
	tlsRun := &Results{Runs: 1, Commit: "ddd tls", TLS: []FanoutRun{{Target: "nginx", Listeners: 10, Kept: 10, ProxyCPU: 0.01},
		{Target: "autoradio", Listeners: 10, Kept: 10, ProxyCPU: 0.004}}}
	selTLS, _ := ParseSections("tls")
	withTLS := MergeReport(report(full), report(tlsRun), selTLS)
	if i := strings.Index(withTLS, "## 3.1. TLS fan-out"); i < strings.Index(withTLS, "## 2. DNS") || i > strings.Index(withTLS, "## 4. Convergence") ||
		!strings.Contains(withTLS, "| TLS fan-out CPU ≤ 1.0× nginx TLS (10 listeners over HTTPS) | 0.40×") {
		t.Errorf("merged TLS section out of place or without its target:\n%s", withTLS)
	}
	if again := MergeReport(withTLS, report(tlsRun), selTLS); strings.Count(again, "## 3.1. TLS fan-out") != 1 {
		t.Error("merging the TLS section again duplicated it")
	}
	// One numbered higher than any goes after the last numbered section,
	// and a problems section whose every line was measured again goes.
	hlsRun := &Results{Runs: 1, Commit: "eee hls", HLS: []GoBench{
		{Pkg: "fe/httpfe", Name: "ProxiedListeners", NsOp: []float64{1}, BOp: []float64{1}, Allocs: []float64{1}},
		{Pkg: "fe/httpfe", Name: "HLSListeners", NsOp: []float64{2}, BOp: []float64{2}, Allocs: []float64{2}}}}
	selHLS, _ := ParseSections("hls")
	clean := MergeReport(report(&Results{Runs: 3, Commit: "aaa old", Redirects: full.Redirects, Converge: full.Converge,
		Problems: []string{"hls: failed, see the log"}}), report(hlsRun), selHLS)
	if i := strings.Index(clean, "## 8. HLS"); i < 0 || i < strings.Index(clean, "## 4. Convergence") {
		t.Errorf("merged HLS section missing or before the sections numbered lower:\n%s", clean)
	}
	if strings.Contains(clean, "Problems in this run") {
		t.Errorf("an empty problems section was kept:\n%s", clean)
	}
	// A full run replaces everything.
	all, _ := ParseSections("")
	if MergeReport(report(full), report(sub), all) != report(sub) {
		t.Error("a full run's report was merged")
	}
}
