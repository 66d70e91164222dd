package lb_test

import (
	"strings"
	"testing"

	"autoradio/fe/lb"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    lb.Policy
		wantErr bool
	}{
		{"", lb.Weighted, false},
		{"weighted", lb.Weighted, false},
		{"least_loaded", lb.LeastLoaded, false},
		{"random", lb.Random, false},
		{"Weighted", 0, true},
		{"least-loaded", 0, true},
		{"roundrobin", 0, true},
	}
	for _, tt := range tests {
		got, err := lb.ParsePolicy(tt.in)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), tt.in) || !strings.Contains(err.Error(), "least_loaded") {
				t.Errorf("ParsePolicy(%q) error = %v, want one naming the value and the choices", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParsePolicy(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if tt.in != "" && got.String() != tt.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tt.in)
		}
	}
}

func TestPolicySet(t *testing.T) {
	var p lb.Policy
	if err := p.Set("random"); err != nil || p != lb.Random {
		t.Fatalf("Set(random) = %v, policy %v", err, p)
	}
	if err := p.Set("nope"); err == nil || p != lb.Random {
		t.Fatalf("Set(nope) = %v, policy %v; want an error and no change", err, p)
	}
}
