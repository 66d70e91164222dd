package dns

import (
	"slices"
	"testing"

	mdns "github.com/miekg/dns"
)

func TestChallengeTXT(t *testing.T) {
	pending := map[string][]string{"_acme-challenge.radio.example.com.": {"value-one", "value-two"}}
	h := testHandler(t, Config{Challenges: func(name string) []string { return pending[name] }}, threeNodes)
	for _, tc := range []struct {
		name   string
		qtype  uint16
		rcode  int
		answer []string
	}{
		{"_acme-challenge.radio.example.com.", mdns.TypeTXT, mdns.RcodeSuccess, []string{
			`_acme-challenge.radio.example.com. 5 IN TXT "value-one"`,
			`_acme-challenge.radio.example.com. 5 IN TXT "value-two"`}},
		{"_ACME-challenge.Radio.Example.com.", mdns.TypeTXT, mdns.RcodeSuccess, []string{
			`_ACME-challenge.Radio.Example.com. 5 IN TXT "value-one"`,
			`_ACME-challenge.Radio.Example.com. 5 IN TXT "value-two"`}},
		{"_acme-challenge.radio.example.com.", mdns.TypeA, mdns.RcodeSuccess, nil},
		{"_acme-challenge.node1.radio.example.com.", mdns.TypeTXT, mdns.RcodeNameError, nil}, // none pending
		{"_acme-challenge.radio.example.org.", mdns.TypeTXT, mdns.RcodeRefused, nil},
	} {
		t.Run(tc.name+"/"+mdns.TypeToString[tc.qtype], func(t *testing.T) {
			m := h.Reply(query(tc.name, tc.qtype), true)
			if m.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s", mdns.RcodeToString[m.Rcode], mdns.RcodeToString[tc.rcode])
			}
			if got, want := strs(m.Answer), canon(t, tc.answer); !slices.Equal(got, want) {
				t.Errorf("answer %q, want %q", got, want)
			}
		})
	}
}
