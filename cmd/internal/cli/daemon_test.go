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
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"autoradio"
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

func TestCheckEtcdFlags(t *testing.T) {
	ca := t.TempDir() + "/ca.pem"
	if err := writeFile(ca); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		args          []string
		warning, fail string
	}{
		{"defaults, no TLS files", nil, "", ""},
		{"https with a named CA", []string{"--etcd-urls", "https://e:2379", "--etcd-ca", ca}, "", ""},
		{"default CA with http", []string{"--etcd-ca-default"}, "exists, but the etcd URLs are http://", ""},
		{"named CA with http", []string{"--etcd-ca", ca}, "", "--etcd-ca given, but the etcd URLs are http://"},
		{"missing named key", []string{"--etcd-urls", "https://e:2379", "--etcd-key", "/nonexistent.key"}, "", "--etcd-key: stat /nonexistent.key"},
		{"mixed URLs", []string{"--etcd-urls", "https://a:2379,http://b:2379"}, "", "mixes http:// and https://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg autoradio.EtcdConfig
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			AddEtcdFlags(fs, &cfg)
			args := tc.args
			if len(args) == 1 && args[0] == "--etcd-ca-default" {
				fs.Lookup("etcd-ca").DefValue = ca
				cfg.CAFile, args = ca, nil
			}
			if err := fs.Parse(args); err != nil {
				t.Fatal(err)
			}
			warning, err := CheckEtcdFlags(fs, cfg)
			if tc.fail != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fail) {
					t.Fatalf("error %v, want one with %q", err, tc.fail)
				}
				return
			}
			if err != nil || !strings.Contains(warning, tc.warning) || (tc.warning == "") != (warning == "") {
				t.Fatalf("warning %q, error %v; want warning %q", warning, err, tc.warning)
			}
		})
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
