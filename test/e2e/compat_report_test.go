package e2e

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// notReached is a cell of a check that did not run, because an earlier
// one of its row failed.
const notReached = "not reached"

// compatTable is one markdown table of the compatibility report: a row
// per client, a column per feature, each cell what the suite observed.
type compatTable struct {
	mu   sync.Mutex
	cols []string
	rows []*compatRow
}

// compatRow is a client's row; the client's subtest fills it in as its
// checks pass.
type compatRow struct {
	table *compatTable
	cells []string
}

func newCompatTable(cols ...string) *compatTable { return &compatTable{cols: cols} }

// row adds a row for client, its cells not reached yet.
func (tb *compatTable) row(client string) *compatRow {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	r := &compatRow{table: tb, cells: make([]string, len(tb.cols))}
	r.cells[0] = client
	for i := 1; i < len(r.cells); i++ {
		r.cells[i] = notReached
	}
	tb.rows = append(tb.rows, r)
	return r
}

// set records the cell of column col.
func (r *compatRow) set(col, value string) {
	r.table.mu.Lock()
	defer r.table.mu.Unlock()
	for i, c := range r.table.cols {
		if c == col {
			r.cells[i] = value
			return
		}
	}
	panic("compat report: no column " + col)
}

// check runs one check of col: the cell says FAIL unless check returns,
// in which case it says what check returned. A check that fails the
// test stops its subtest, so the cell is left saying FAIL.
func (r *compatRow) check(col string, check func() string) {
	r.set(col, "**FAIL**")
	r.set(col, check())
}

func (tb *compatTable) markdown() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(tb.cols, " | "), strings.Repeat(" --- |", len(tb.cols)))
	for _, r := range tb.rows {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(r.cells, " | "))
	}
	return b.String()
}

// writeCompatReport logs the tables and, when COMPAT_REPORT names a file,
// writes them there as markdown (for README's "Works with").
func writeCompatReport(t *testing.T, tables ...*compatTable) {
	var parts []string
	for _, tb := range tables {
		parts = append(parts, tb.markdown())
	}
	report := strings.Join(parts, "\n")
	t.Logf("compatibility report:\n%s", report)
	if path := os.Getenv("COMPAT_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
			t.Errorf("writing the report: %v", err)
		}
	}
}
