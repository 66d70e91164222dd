package bench

import (
	"slices"
	"strconv"
	"strings"
)

// MergeReport merges the report of a run that measured only some sections
// (sel) into the previous full report, so that a subset run does not wipe
// what it did not measure. Sections ("## " headings) the new report has
// replace the old ones of the same title; the rows of the targets table
// and the problems list are merged by what they are about; the header is
// the new one, with a note naming where the kept sections come from.
func MergeReport(old, new string, sel Selection) string {
	if sel.All() || strings.TrimSpace(old) == "" {
		return new
	}
	oldHead, oldSecs := splitSections(old)
	newHead, newSecs := splitSections(new)
	var b strings.Builder
	b.WriteString(strings.TrimRight(newHead, "\n"))
	b.WriteString("\n\n" + keptNote(oldHead, sel) + "\n\n")
	var out []mdSection
	for _, o := range oldSecs {
		n, ok := findSection(newSecs, o.key)
		switch {
		case o.key == "Targets" && ok:
			o.text = mergeRows(o.text, n.text, targetKey, nil)
		case o.key == "Problems in this run":
			o.text = mergeRows(o.text, n.text, problemKey, sel.Runs)
			if strings.TrimSpace(o.text) == "## Problems in this run" {
				continue // every problem it listed was measured again
			}
		case ok:
			o.text = n.text
		}
		out = append(out, o)
	}
	// A numbered section the old report lacks goes before the first
	// numbered one with a higher number, or else after the last numbered
	// one; another, after the one it follows in the new report.
	for i, n := range newSecs {
		if _, ok := findSection(out, n.key); ok {
			continue
		}
		at := len(out)
		if i > 0 {
			for j, o := range out {
				if o.key == newSecs[i-1].key {
					at = j + 1
				}
			}
		}
		if n.num != nil {
			for j, o := range out {
				if o.num != nil {
					at = j + 1
				}
			}
			for j, o := range out {
				if o.num != nil && slices.Compare(o.num, n.num) > 0 {
					at = j
					break
				}
			}
		}
		out = append(out[:at], append([]mdSection{n}, out[at:]...)...)
	}
	for _, o := range out {
		b.WriteString(o.text)
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

type mdSection struct {
	key  string // the heading without its number and parenthesis
	num  []int  // the heading's number: [3 1] for "3.1. TLS fan-out", nil for none
	text string // from the heading to the next one
}

// splitSections cuts a report at its "## " headings.
func splitSections(md string) (head string, secs []mdSection) {
	parts := strings.Split(md, "\n## ")
	head = parts[0] + "\n"
	for _, p := range parts[1:] {
		title, _, _ := strings.Cut(p, "\n")
		secs = append(secs, mdSection{key: sectionKey(title), num: sectionNum(title), text: "## " + strings.TrimRight(p, "\n") + "\n\n"})
	}
	return head, secs
}

// sectionKey is "DNS" for "2. DNS (dnsperf -c 10, ...)": the part that
// stays the same when the run's parameters change.
func sectionKey(title string) string {
	if sectionNum(title) != nil {
		_, title, _ = strings.Cut(title, ". ")
	}
	title, _, _ = strings.Cut(title, " (")
	return strings.TrimSpace(title)
}

// sectionNum is [3 1] for "3.1. TLS fan-out", nil for a heading without
// a number.
func sectionNum(title string) []int {
	numStr, _, ok := strings.Cut(title, ". ")
	if !ok {
		return nil
	}
	var num []int
	for _, part := range strings.Split(numStr, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil
		}
		num = append(num, n)
	}
	return num
}

func findSection(secs []mdSection, key string) (mdSection, bool) {
	for _, s := range secs {
		if s.key == key {
			return s, true
		}
	}
	return mdSection{}, false
}

// mergeRows keeps the old section's heading and layout, replaces the old
// item lines (table rows or list items) that a new line has the key of, or
// that stale reports as re-measured, and adds the new lines in place of
// the first replaced one or at the end.
func mergeRows(old, new string, key func(string) string, stale func(string) bool) string {
	oldLines := strings.Split(strings.TrimRight(old, "\n"), "\n")
	var fresh []string
	newKeys := map[string]bool{}
	for _, l := range strings.Split(new, "\n") {
		if k := key(l); k != "" {
			fresh = append(fresh, l)
			newKeys[k] = true
		}
	}
	var out []string
	inserted := false
	insert := func() {
		if !inserted {
			out = append(out, fresh...)
			inserted = true
		}
	}
	lastItem := -1
	for _, l := range oldLines {
		k := key(l)
		if k != "" && (newKeys[k] || (stale != nil && stale(k))) {
			insert()
			lastItem = len(out) - 1
			continue
		}
		out = append(out, l)
		if k != "" {
			lastItem = len(out) - 1
		}
	}
	if !inserted {
		at := lastItem + 1
		if lastItem < 0 {
			at = len(out)
		}
		out = append(out[:at], append(fresh, out[at:]...)...)
	}
	return strings.Join(out, "\n") + "\n\n"
}

// targetKey is what a targets row measures: "DNS queries" for
// "| DNS queries ≥ 1× Knot DNS | ...".
func targetKey(l string) string {
	if !strings.HasPrefix(l, "| ") || strings.HasPrefix(l, "| target ") || strings.HasPrefix(l, "| ---") {
		return ""
	}
	cell, _, _ := strings.Cut(l[2:], " |")
	for _, sep := range []string{" ≥ ", " ≤ "} {
		cell, _, _ = strings.Cut(cell, sep)
	}
	return strings.TrimSpace(cell)
}

// problemKey is the section a problem line names ("- dns: failed ...").
func problemKey(l string) string {
	if !strings.HasPrefix(l, "- ") {
		return ""
	}
	k, _, ok := strings.Cut(l[2:], ":")
	if !ok {
		return ""
	}
	return k
}

// keptNote says which sections this run measured and which earlier run
// each other section comes from, carrying the old report's own note on.
func keptNote(oldHead string, sel Selection) string {
	type source struct{ names, run string }
	var generated string
	var oldMeasured []string // nil: the old run measured everything
	var sources []source
	for _, l := range strings.Split(oldHead, "\n") {
		switch {
		case strings.HasPrefix(l, "Generated by "):
			generated = strings.TrimPrefix(strings.TrimPrefix(l, "Generated by "), "`make bench` (bench/run) ")
			generated = strings.TrimSuffix(strings.TrimSpace(generated), ".")
		case strings.HasPrefix(l, "> This run measured only "):
			list, _, _ := strings.Cut(strings.TrimPrefix(l, "> This run measured only "), ".")
			oldMeasured = strings.Split(list, ", ")
		case strings.HasPrefix(l, "> - "):
			if names, run, ok := strings.Cut(strings.TrimPrefix(l, "> - "), ": the run "); ok {
				sources = append(sources, source{names, strings.TrimSuffix(run, ".")})
			}
		}
	}
	notNow := func(names []string) []string {
		var out []string
		for _, n := range names {
			if !sel.Runs(n) {
				out = append(out, n)
			}
		}
		return out
	}
	var next []source
	if oldMeasured == nil {
		sources = []source{{"everything else", generated}}
	} else if kept := notNow(oldMeasured); len(kept) > 0 {
		next = append(next, source{strings.Join(kept, ", "), generated})
	}
	for _, s := range sources {
		if s.names != "everything else" {
			kept := notNow(strings.Split(s.names, ", "))
			if len(kept) == 0 {
				continue
			}
			s.names = strings.Join(kept, ", ")
		}
		next = append(next, s)
	}
	var b strings.Builder
	b.WriteString("> This run measured only " + strings.Join(sel.Leaves(), ", ") + ". The other sections come from earlier runs:\n>")
	for _, s := range next {
		b.WriteString("\n> - " + s.names + ": the run " + s.run + ".")
	}
	return b.String()
}
