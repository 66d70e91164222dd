//go:build cluster

// Package cluster holds the fault-injection scenarios: a real 3-node
// cluster in network namespaces (internal/nscluster), with sources and
// listeners in a clients namespace, under host crashes, partitions, an
// etcd quorum loss and a rolling restart. Each scenario asserts only
// correctness (listeners come back, a master is elected, no lasting split
// brain, mounts reach every node, audio decodes) and reports its figures
// in a table, printed at the end and written to $CLUSTER_REPORT when set.
//
//	go test -tags cluster -count=1 -timeout 15m ./test/cluster/
package cluster

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"autoradio/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	if table := report.table(); table != "" {
		fmt.Print(table)
		if path := os.Getenv("CLUSTER_REPORT"); path != "" {
			if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "writing the report:", err)
			}
		}
	}
	os.Exit(code)
}

// figures are one scenario's row of the report.
type figures struct {
	Scenario  string
	Listeners int
	Dropped   int
	// DroppedNote says how many of the dropped were on the failed node.
	DroppedNote string
	Gaps        []string // per listener: longest stall / longest silence
	LiveAgain   string
	MountsLost  int
	SplitBrain  string
	Decoded     string
	// Target bounds Worst, the longest time without audio (no data plus
	// fallback silence) of a listener the fault did not hit; TargetNote
	// says whether it was met. Zero: the scenario has no target.
	Target     time.Duration
	Worst      time.Duration
	TargetNote string
	Notes      string
}

// targetText is the without-audio cell: the worst figure, the target and
// whether it was met.
func (f figures) targetText() string {
	if f.Target == 0 {
		return secs(f.Worst) + " (no target)"
	}
	return fmt.Sprintf("%s (%s: %s)", secs(f.Worst), secs(f.Target), f.TargetNote)
}

type reportRows struct {
	mu   sync.Mutex
	rows []figures
}

var report reportRows

func (r *reportRows) add(f figures) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, f)
}

func (r *reportRows) table() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.rows) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n| scenario | listeners dropped | longest gap per listener (no data / silence heard) | without audio, worst listener not hit (target) | source live again | mounts lost | split brain | audio decodable | notes |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, f := range r.rows {
		fmt.Fprintf(&b, "| %s | %d of %d%s | %s | %s | %s | %d | %s | %s | %s |\n", f.Scenario, f.Dropped, f.Listeners, f.DroppedNote,
			strings.Join(f.Gaps, ", "), f.targetText(), f.LiveAgain, f.MountsLost, f.SplitBrain, f.Decoded, f.Notes)
	}
	return b.String()
}
