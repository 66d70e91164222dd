package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"autoradio/internal/testenv"
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

func TestRunWithMonitor(t *testing.T) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testenv.FreePort(t, "127.0.0.1")))
	monitor := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	log := slog.New(slog.DiscardHandler)
	errDone := errors.New("run done")
	served := false
	err := RunWithMonitor(context.Background(), addr, monitor, log, func(ctx context.Context) error {
		testenv.Eventually(t, 5*time.Second, func() error {
			resp, err := http.Get("http://" + addr + "/")
			if err != nil {
				return err
			}
			resp.Body.Close()
			return nil
		})
		served = true
		return errDone
	})
	if !served || !errors.Is(err, errDone) {
		t.Errorf("served %v, RunWithMonitor = %v; want true, %v", served, err, errDone)
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("the monitoring server still listens after RunWithMonitor returned")
	}

	// A monitoring server that cannot start does not stop the daemon.
	err = RunWithMonitor(context.Background(), "256.0.0.1:1", monitor, log, func(ctx context.Context) error { return nil })
	if err != nil {
		t.Errorf("without its monitoring server: %v, want nil", err)
	}
}
