package bench

import (
	"fmt"
	"slices"
	"strings"
)

// SectionTree is how the bench's sections nest: a child runs inside its
// parent's set-up (the front-end sections share one node, nginx and Knot;
// the cluster sections one 3-node cluster).
var SectionTree = []Section{
	{Name: "internals"},
	{Name: "frontend", Children: []string{"redirects", "dns", "fanout", "tls"}},
	{Name: "cluster", Children: []string{"convergence", "failover", "etcd"}},
	{Name: "hls"},
}

// Section is a top-level section and the sections that run inside it.
type Section struct {
	Name     string
	Children []string
}

// SectionHelp describes the tree for -bench.only's help.
func SectionHelp() string {
	var parts []string
	for _, s := range SectionTree {
		if len(s.Children) == 0 {
			parts = append(parts, s.Name)
			continue
		}
		parts = append(parts, s.Name+" ("+strings.Join(s.Children, ",")+")")
	}
	return "comma-separated sections to run, default all: " + strings.Join(parts, ", ") +
		"; naming a section runs all the sections in its parentheses, naming one of those runs its parent's set-up and only the ones named"
}

// Selection is the parsed -bench.only: which sections run.
type Selection struct {
	named map[string]bool // empty: everything
}

// ParseSections parses -bench.only. An unknown name is an error, so that
// a typo does not measure nothing and write an empty report.
func ParseSections(only string) (Selection, error) {
	sel := Selection{named: map[string]bool{}}
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if _, ok := parentOf(name); !ok {
			return Selection{}, fmt.Errorf("bench: unknown section %q; %s", name, SectionHelp())
		}
		sel.named[name] = true
	}
	return sel, nil
}

// parentOf returns the top-level section that name is or is inside.
func parentOf(name string) (Section, bool) {
	for _, s := range SectionTree {
		if s.Name == name || slices.Contains(s.Children, name) {
			return s, true
		}
	}
	return Section{}, false
}

// All reports whether the run measures every section.
func (s Selection) All() bool { return len(s.named) == 0 }

// Runs reports whether section (top-level or child) runs: named itself,
// inside a named parent, or a parent of a named child.
func (s Selection) Runs(section string) bool {
	if s.All() || s.named[section] {
		return true
	}
	p, ok := parentOf(section)
	if !ok {
		return false
	}
	if p.Name == section {
		for _, c := range p.Children {
			if s.named[c] {
				return true
			}
		}
		return false
	}
	return s.named[p.Name]
}

// Names lists the sections that run, parents before their children, in
// the tree's order.
func (s Selection) Names() []string {
	var out []string
	for _, p := range SectionTree {
		for _, n := range append([]string{p.Name}, p.Children...) {
			if s.Runs(n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// Leaves lists the sections that run and hold no others: what the run
// measured.
func (s Selection) Leaves() []string {
	var out []string
	for _, p := range SectionTree {
		if len(p.Children) == 0 && s.Runs(p.Name) {
			out = append(out, p.Name)
		}
		for _, c := range p.Children {
			if s.Runs(c) {
				out = append(out, c)
			}
		}
	}
	return out
}
