package acme

import (
	"crypto/x509"
	"testing"
	"time"
)

func TestRenewAtAndCovers(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	leaf := &x509.Certificate{NotBefore: start, NotAfter: start.Add(90 * 24 * time.Hour),
		DNSNames: []string{"radio.example.com", "*.radio.example.com"}}
	if got, want := renewAt(leaf), start.Add(60*24*time.Hour); !got.Equal(want) {
		t.Errorf("renewAt %v, want %v (two thirds of 90 days)", got, want)
	}
	for _, tc := range []struct {
		names []string
		want  bool
	}{
		{[]string{"radio.example.com"}, true},
		{[]string{"radio.example.com", "*.radio.example.com"}, true},
		{[]string{"radio.example.com", "n3.radio.example.com"}, false}, // a new node: order again
	} {
		if got := covers(leaf, tc.names); got != tc.want {
			t.Errorf("covers(%v) = %v, want %v", tc.names, got, tc.want)
		}
	}
}
