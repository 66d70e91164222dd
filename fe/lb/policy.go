package lb

import "fmt"

// Policy says how the balancer chooses among the eligible nodes.
type Policy int

// The policies accepted by --lb-policy.
const (
	// Weighted picks at random, each node with probability proportional to
	// its spare capacity. It is the default: it follows capacity closely
	// and never sends a whole burst to one node.
	Weighted Policy = iota
	// LeastLoaded picks the node with the most spare capacity; ties are
	// broken at random.
	LeastLoaded
	// Random picks uniformly among the eligible nodes, ignoring load.
	Random
)

var policyNames = [...]string{
	Weighted:    "weighted",
	LeastLoaded: "least_loaded",
	Random:      "random",
}

// String returns the policy's flag spelling.
func (p Policy) String() string {
	if p < 0 || int(p) >= len(policyNames) {
		return fmt.Sprintf("Policy(%d)", int(p))
	}
	return policyNames[p]
}

// ParsePolicy parses a --lb-policy value; "" means the default, Weighted.
func ParsePolicy(s string) (Policy, error) {
	if s == "" {
		return Weighted, nil
	}
	for p, name := range policyNames {
		if s == name {
			return Policy(p), nil
		}
	}
	return 0, fmt.Errorf("lb: unknown policy %q (want weighted, least_loaded or random)", s)
}

// Set parses s into p; with String and Type it makes *Policy a pflag.Value.
func (p *Policy) Set(s string) error {
	v, err := ParsePolicy(s)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Type names the flag's value type in help output.
func (p *Policy) Type() string { return "policy" }
