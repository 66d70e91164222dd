package cli

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

func TestDaemonFlags(t *testing.T) {
	var d DaemonFlags
	fs := pflag.NewFlagSet("d", pflag.ContinueOnError)
	d.Add(fs, "127.0.0.1:9", "name", "address")
	if err := fs.Parse([]string{"--name", "n1", "--ip", "192.0.2.1,2001:db8::1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Prepare(context.Background()); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if d.Name != "n1" || !slices.Equal(d.IPs, []string{"192.0.2.1", "2001:db8::1"}) || d.MonitorAddr != "127.0.0.1:9" {
		t.Errorf("flags: %+v", d)
	}

	d.Name = ""
	var ue *UsageError
	if _, err := d.Prepare(context.Background()); !errors.As(err, &ue) {
		t.Errorf("empty name: %v, want a usage error", err)
	}
	d.Name, d.IPs = "n1", []string{"not-an-ip"}
	if _, err := d.Prepare(context.Background()); err == nil {
		t.Error("bad --ip: no error")
	}
}
