package cli

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"autoradio"
)

func TestEnvVar(t *testing.T) {
	for flag, want := range map[string]string{
		"etcd-urls":            "AUTORADIO_ETCD_URLS",
		"domain":               "AUTORADIO_DOMAIN",
		"enable-icecast-proxy": "AUTORADIO_ENABLE_ICECAST_PROXY",
		"ip":                   "AUTORADIO_IP",
	} {
		if got := EnvVar(flag); got != want {
			t.Errorf("EnvVar(%q) = %q, want %q", flag, got, want)
		}
	}
}

// testFlags is a command with one flag of each kind the programs use.
type testFlags struct {
	etcd    autoradio.EtcdConfig
	domain  string
	ips     []string
	names   []string
	proxy   bool
	ttl     time.Duration
	max     int
	level   string
	ran     bool
	gotArgs []string
}

// newTestCmd builds root -> sub, with the etcd flags persistent on root as
// in the programs, and runs sub.
func newTestCmd(f *testFlags) *cobra.Command {
	root := &cobra.Command{Use: "prog"}
	AddEtcdFlags(root.PersistentFlags(), &f.etcd)
	AddLogLevelFlag(root.PersistentFlags(), &f.level)
	sub := &cobra.Command{
		Use:  "sub",
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f.ran, f.gotArgs = true, args
			return nil
		},
	}
	fs := sub.Flags()
	fs.StringVar(&f.domain, "domain", "", "")
	fs.StringSliceVar(&f.ips, "ip", nil, "")
	fs.StringArrayVar(&f.names, "nameservers", []string{"ns.default"}, "")
	fs.BoolVar(&f.proxy, "enable-icecast-proxy", true, "")
	fs.DurationVar(&f.ttl, "session-ttl", 5*time.Second, "")
	fs.IntVar(&f.max, "max-listeners", 100, "")
	root.AddCommand(sub)
	return root
}

func run(t *testing.T, args ...string) (*testFlags, int, string) {
	t.Helper()
	var f testFlags
	root := newTestCmd(&f)
	var stderr bytes.Buffer
	root.SetErr(&stderr)
	root.SetOut(&stderr)
	code := Run(context.Background(), root, args)
	return &f, code, stderr.String()
}

func TestBindEnvSetsEveryKindOfFlag(t *testing.T) {
	t.Setenv("AUTORADIO_ETCD_URLS", "http://127.0.0.1:1, http://127.0.0.2:2")
	t.Setenv("AUTORADIO_ETCD_CA", "/tmp/ca.pem")
	t.Setenv("AUTORADIO_DOMAIN", "radio.example.com")
	t.Setenv("AUTORADIO_IP", "127.0.0.11,127.0.0.12")
	t.Setenv("AUTORADIO_NAMESERVERS", "ns1.example.com,ns2.example.com")
	t.Setenv("AUTORADIO_ENABLE_ICECAST_PROXY", "false")
	t.Setenv("AUTORADIO_SESSION_TTL", "9s")
	t.Setenv("AUTORADIO_MAX_LISTENERS", "42")
	t.Setenv("AUTORADIO_LOG_LEVEL", "DEBUG")
	f, code, stderr := run(t, "sub")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := []string{"http://127.0.0.1:1", "http://127.0.0.2:2"}; !slices.Equal(f.etcd.Endpoints, want) {
		t.Errorf("etcd endpoints %q, want %q", f.etcd.Endpoints, want)
	}
	if f.etcd.CAFile != "/tmp/ca.pem" || f.etcd.CertFile != autoradio.DefaultEtcdCert {
		t.Errorf("etcd files %+v", f.etcd)
	}
	if f.domain != "radio.example.com" {
		t.Errorf("domain %q", f.domain)
	}
	if want := []string{"127.0.0.11", "127.0.0.12"}; !slices.Equal(f.ips, want) {
		t.Errorf("ips %q, want %q", f.ips, want)
	}
	if want := []string{"ns1.example.com", "ns2.example.com"}; !slices.Equal(f.names, want) {
		t.Errorf("string array %q, want %q (env replaces the default)", f.names, want)
	}
	if f.proxy || f.ttl != 9*time.Second || f.max != 42 || f.level != "debug" {
		t.Errorf("proxy %v ttl %v max %d level %q", f.proxy, f.ttl, f.max, f.level)
	}
}

func TestBindEnvCommandLineWins(t *testing.T) {
	t.Setenv("AUTORADIO_ETCD_URLS", "http://from-env:2379")
	t.Setenv("AUTORADIO_DOMAIN", "env.example.com")
	t.Setenv("AUTORADIO_IP", "127.0.0.99")
	f, code, stderr := run(t, "--etcd-urls", "http://from-flag:2379", "sub",
		"--domain", "flag.example.com", "--ip", "127.0.0.1", "--ip", "127.0.0.2")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !slices.Equal(f.etcd.Endpoints, []string{"http://from-flag:2379"}) || f.domain != "flag.example.com" {
		t.Errorf("environment overrode the command line: %q %q", f.etcd.Endpoints, f.domain)
	}
	if !slices.Equal(f.ips, []string{"127.0.0.1", "127.0.0.2"}) {
		t.Errorf("ips %q: the repeated flag must win whole, not merge with the environment", f.ips)
	}
}

func TestBindEnvDefaultsAndEmptyValues(t *testing.T) {
	t.Setenv("AUTORADIO_DOMAIN", "")
	t.Setenv("AUTORADIO_IP", "")
	f, code, stderr := run(t, "sub", "arg")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !slices.Equal(f.etcd.Endpoints, []string{autoradio.DefaultEtcdURL}) ||
		f.etcd.CAFile != autoradio.DefaultEtcdCA || f.etcd.KeyFile != autoradio.DefaultEtcdKey {
		t.Errorf("etcd defaults %+v", f.etcd)
	}
	if f.domain != "" || f.ips != nil || !f.proxy || f.ttl != 5*time.Second || f.level != DefaultLogLevel {
		t.Errorf("defaults changed: %+v", f)
	}
	if !f.ran || !slices.Equal(f.gotArgs, []string{"arg"}) {
		t.Errorf("command did not run with its argument: %+v", f)
	}
}

func TestBindEnvBadValueNamesVariable(t *testing.T) {
	for _, tc := range []struct{ env, value string }{
		{"AUTORADIO_MAX_LISTENERS", "lots"},
		{"AUTORADIO_ENABLE_ICECAST_PROXY", "maybe"},
		{"AUTORADIO_SESSION_TTL", "5"},
		{"AUTORADIO_LOG_LEVEL", "loud"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			f, code, stderr := run(t, "sub")
			if code != ExitFailure || f.ran {
				t.Fatalf("exit %d, ran %v; want a failure before running", code, f.ran)
			}
			if !strings.HasPrefix(stderr, "prog: environment "+tc.env+"=") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q: want one line naming %s", stderr, tc.env)
			}
		})
	}
}

func TestBindEnvSatisfiesRequiredFlag(t *testing.T) {
	var domain string
	root := &cobra.Command{Use: "prog", RunE: func(*cobra.Command, []string) error { return nil }}
	root.Flags().StringVar(&domain, "domain", "", "")
	if err := root.MarkFlagRequired("domain"); err != nil {
		t.Fatal(err)
	}
	root.SetErr(&bytes.Buffer{})
	if code := Run(context.Background(), root, nil); code != ExitUsage {
		t.Fatalf("missing required flag: exit %d, want %d", code, ExitUsage)
	}
	t.Setenv("AUTORADIO_DOMAIN", "radio.example.com")
	if code := Run(context.Background(), root, nil); code != ExitOK || domain != "radio.example.com" {
		t.Fatalf("required flag from the environment: exit %d, domain %q", code, domain)
	}
}

func TestBindEnvWithSubcommandHook(t *testing.T) {
	t.Setenv("AUTORADIO_DOMAIN", "radio.example.com")
	var f testFlags
	root := newTestCmd(&f)
	sub, _, _ := root.Find([]string{"sub"})
	var seen string
	sub.PersistentPreRun = func(*cobra.Command, []string) { seen = f.domain }
	root.SetErr(&bytes.Buffer{})
	if code := Run(context.Background(), root, []string{"sub"}); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if seen != "radio.example.com" {
		t.Errorf("the subcommand's own hook saw domain %q: the environment was bound too late", seen)
	}
}
