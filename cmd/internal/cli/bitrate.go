package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// BitsPerSecond is a flag value for a bandwidth in bits per second, written
// as a number with an optional decimal suffix: "100M" is 100,000,000.
type BitsPerSecond float64

var bitSuffixes = map[byte]float64{'k': 1e3, 'K': 1e3, 'm': 1e6, 'M': 1e6, 'g': 1e9, 'G': 1e9}

// String implements pflag.Value.
func (b *BitsPerSecond) String() string {
	v := float64(*b)
	for _, s := range []struct {
		suffix string
		scale  float64
	}{{"G", 1e9}, {"M", 1e6}, {"k", 1e3}} {
		if v >= s.scale && v == float64(int64(v/s.scale))*s.scale {
			return strconv.FormatInt(int64(v/s.scale), 10) + s.suffix
		}
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Set implements pflag.Value.
func (b *BitsPerSecond) Set(s string) error {
	t := strings.TrimSpace(s)
	scale := 1.0
	if n := len(t); n > 0 {
		if m, ok := bitSuffixes[t[n-1]]; ok {
			scale, t = m, t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a bandwidth in bits/s (e.g. 100M, 1G, 500k)", s)
	}
	*b = BitsPerSecond(v * scale)
	return nil
}

// Type implements pflag.Value.
func (b *BitsPerSecond) Type() string { return "bits/s" }
