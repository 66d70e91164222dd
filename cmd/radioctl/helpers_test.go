package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/cmd/internal/cli"
	"autoradio/internal/etcdtest"
	"autoradio/internal/testenv"
)

// result is what one radioctl run produced.
type result struct {
	stdout, stderr string
	code           int
}

// runCtl runs radioctl in-process with args and stdin, bounded by a
// context that outlives --timeout.
func runCtl(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCmd(&stdout, &stderr)
	root.SetIn(strings.NewReader(stdin))
	ctx := testenv.Context(t, 30*time.Second)
	code := cli.Run(ctx, root, args)
	return result{stdout.String(), stderr.String(), code}
}

// cluster is an etcd with a radioctl pointed at it.
type cluster struct {
	t      *testing.T
	srv    *etcdtest.Server
	client *autoradio.Client
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	srv := etcdtest.Start(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &cluster{t: t, srv: srv, client: autoradio.NewClient(srv.Client(), log)}
}

// ctl runs radioctl against the cluster's etcd, without TLS whatever the
// machine's /etc/autoradio holds.
func (c *cluster) ctl(args ...string) result {
	c.t.Helper()
	return c.ctlIn("", args...)
}

func (c *cluster) ctlIn(stdin string, args ...string) result {
	c.t.Helper()
	return runCtl(c.t, stdin, append([]string{"--etcd-urls", c.srv.URL(), "--etcd-ca", ""}, args...)...)
}

// ok runs radioctl and fails the test unless it succeeded silently on stderr.
func (c *cluster) ok(args ...string) string {
	c.t.Helper()
	r := c.ctl(args...)
	if r.code != 0 || r.stderr != "" {
		c.t.Fatalf("radioctl %q: exit %d, stderr %q", args, r.code, r.stderr)
	}
	return r.stdout
}

// fails runs radioctl and checks that it failed with exit status code and
// the one-line message "radioctl: <msg...>".
func (c *cluster) fails(code int, msg string, args ...string) {
	c.t.Helper()
	checkFailure(c.t, c.ctl(args...), code, msg, args)
}

func checkFailure(t *testing.T, r result, code int, msg string, args []string) {
	t.Helper()
	if r.code != code {
		t.Errorf("radioctl %q: exit %d, want %d (stderr %q)", args, r.code, code, r.stderr)
	}
	first, _, _ := strings.Cut(r.stderr, "\n")
	if !strings.HasPrefix(first, "radioctl: ") || !strings.Contains(first, msg) {
		t.Errorf("radioctl %q: stderr %q, want one line with %q", args, r.stderr, msg)
	}
	if code == cli.ExitFailure && strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("radioctl %q: stderr has more than one line: %q", args, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("radioctl %q failed but printed %q", args, r.stdout)
	}
}

// mount reads a mount straight from etcd.
func (c *cluster) mount(path string) *autoradio.Mount {
	c.t.Helper()
	ctx := testenv.Context(c.t, 10*time.Second)
	m, err := c.client.GetMount(ctx, path)
	if err != nil {
		c.t.Fatalf("GetMount(%s): %v", path, err)
	}
	return m
}

// field returns the value printed after "key: " on a line of out.
func field(out, key string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, key+": "); ok {
			return v
		}
	}
	return ""
}
