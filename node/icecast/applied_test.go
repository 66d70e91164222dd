package icecast

import (
	"testing"

	"autoradio"
)

// A mount counts as applied once Icecast shows the config ID of a config
// that has it, and only in that config's role.
func TestApplied(t *testing.T) {
	s := newTestServer(t)
	p := baseParams()
	p.User, p.Group = "", ""
	p.Mounts = masterMounts()
	name := p.Mounts[0].Name
	if _, err := s.apply(p); err != nil {
		t.Fatal(err)
	}
	first := s.gen.Load()
	if s.Applied(name, true) {
		t.Error("applied before Icecast showed the config")
	}
	s.sawConfig(first - 1) // a previous run's
	if s.Applied(name, true) {
		t.Error("applied after Icecast showed an older config")
	}
	s.sawConfig(first)
	if !s.Applied(name, true) {
		t.Errorf("%s not applied after Icecast showed the config", name)
	}
	if s.Applied(name, false) {
		t.Errorf("%s applied as a relay in a master's config", name)
	}
	added := p
	added.Mounts = append(masterMounts(), &autoradio.Mount{Name: "/new.ogg", Username: "u", Password: "p"})
	if _, err := s.apply(added); err != nil {
		t.Fatal(err)
	}
	if s.Applied("/new.ogg", true) || !s.Applied(name, true) {
		t.Error("a new mount applied, or an old one no longer, before Icecast showed the new config")
	}
	s.sawConfig(first) // not yet reloaded
	s.sawConfig(s.gen.Load())
	if !s.Applied("/new.ogg", true) {
		t.Error("the new mount is not applied after Icecast showed its config")
	}
}
