package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"autoradio"
)

func TestRunExitStatusAndOneLineErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		firstErr string
	}{
		{"ok", []string{"sub"}, ExitOK, ""},
		{"unknown flag", []string{"sub", "--nope"}, ExitUsage, "prog: unknown flag: --nope"},
		{"bad flag value", []string{"sub", "--max-listeners", "x"}, ExitUsage, `prog: invalid argument "x" for "--max-listeners" flag`},
		{"too many args", []string{"sub", "a", "b"}, ExitUsage, "prog: accepts at most 1 arg(s), received 2"},
		{"unknown command", []string{"nope"}, ExitUsage, `prog: unknown command "nope" for "prog"`},
		{"bad log level", []string{"--log-level", "loud", "sub"}, ExitUsage, `prog: invalid argument "loud" for "--log-level" flag: unknown log level`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, code, stderr := run(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.HasPrefix(stderr, tc.firstErr) {
				t.Errorf("stderr %q, want it to start with %q", stderr, tc.firstErr)
			}
			if tc.code == ExitUsage && !strings.HasSuffix(stderr, "\nrun 'prog --help' for usage\n") {
				t.Errorf("stderr %q: no help hint", stderr)
			}
		})
	}
}

func TestRunPrintsMultiLineErrorOnOneLine(t *testing.T) {
	root := &cobra.Command{Use: "prog", RunE: func(*cobra.Command, []string) error {
		return errors.New("storing mount /x:\n  etcdserver: too many operations\n")
	}}
	var stderr bytes.Buffer
	root.SetErr(&stderr)
	if code := Run(context.Background(), root, nil); code != ExitFailure {
		t.Fatalf("exit %d", code)
	}
	if want := "prog: storing mount /x:; etcdserver: too many operations\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}

func TestParseLevelAndLogger(t *testing.T) {
	for s, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "warning": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := ParseLevel(s); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseLevel("verbose"); err == nil {
		t.Error("ParseLevel(verbose) succeeded")
	}
	var buf bytes.Buffer
	log := NewLoggerTo(&buf, "warn")
	log.Info("hidden")
	log.Warn("shown", "component", "test")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, "level=WARN msg=shown component=test") {
		t.Errorf("log output %q", out)
	}
}

func TestEtcdError(t *testing.T) {
	cfg := autoradio.EtcdConfig{Endpoints: []string{"http://127.0.0.1:1"}}
	err := EtcdError(cfg, fmt.Errorf("listing mounts: %w", context.DeadlineExceeded))
	if want := "etcd at http://127.0.0.1:1 unreachable: context deadline exceeded"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	other := errors.New("mount does not exist")
	if EtcdError(cfg, other) != other {
		t.Error("an error unrelated to reaching etcd was changed")
	}

	ca := t.TempDir() + "/ca.pem"
	if err := writeFile(ca); err != nil {
		t.Fatal(err)
	}
	cfg.CAFile = ca
	if err := EtcdError(cfg, context.DeadlineExceeded); !strings.Contains(err.Error(), "TLS is only used with https:// URLs") {
		t.Errorf("no TLS hint for http:// with a CA file: %q", err)
	}
	cfg.Endpoints = []string{"https://127.0.0.1:1"}
	if err := EtcdError(cfg, context.DeadlineExceeded); !strings.Contains(err.Error(), "no client certificate") {
		t.Errorf("no client certificate hint: %q", err)
	}
}

func writeFile(path string) error {
	return os.WriteFile(path, []byte("x"), 0o600)
}
