package loadgen

import (
	"math"
	"sort"
)

// Summary describes a sample of values.
type Summary struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	P5     float64 `json:"p5"`
	Median float64 `json:"median"`
	P99    float64 `json:"p99"`
	Max    float64 `json:"max"`
}

// Summarize returns the summary of values (which it sorts). An empty
// sample gives the zero Summary.
func Summarize(values []float64) Summary {
	if len(values) == 0 {
		return Summary{}
	}
	sort.Float64s(values)
	return Summary{
		N:      len(values),
		Min:    values[0],
		P5:     Percentile(values, 5),
		Median: Percentile(values, 50),
		P99:    Percentile(values, 99),
		Max:    values[len(values)-1],
	}
}

// Percentile is the p-th percentile (0-100) of sorted values by the
// nearest-rank method: the smallest value with at least p% of the sample
// at or below it. It is always one of the values, never an interpolation.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Median is the middle value of values (the mean of the two middle ones
// for an even count); scripts/bench reports medians of repeated runs.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
