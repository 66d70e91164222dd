package scripts

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"autoradio/internal/testenv"
)

// configureNode runs configure-node with --root root and returns its
// combined output and error.
func configureNode(t *testing.T, root string, args ...string) (string, error) {
	t.Helper()
	ctx := testenv.Context(t, 10*time.Second)
	cmd := exec.CommandContext(ctx, "./configure-node", append([]string{"--root", root}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustConfigureNode(t *testing.T, root string, args ...string) {
	t.Helper()
	if out, err := configureNode(t, root, args...); err != nil {
		t.Fatalf("configure-node %v: %v\n%s", args, err, out)
	}
}

// readEnvFile reads KEY=VALUE lines as systemd's EnvironmentFile= does for
// the plain values configure-node writes: comments and blank lines skipped.
// A key set twice is an error: the result would depend on the reader.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not KEY=VALUE: %q", path, line)
		}
		if _, dup := env[k]; dup {
			t.Fatalf("%s: %s set twice", path, k)
		}
		env[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

// newRoot returns a root directory holding the packaged /etc/default/autoradio.
func newRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	conf, err := os.ReadFile("../debian/autoradio.default")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "etc", "default")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "autoradio"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// withoutKeys drops the lines that set one of keys.
func withoutKeys(text string, keys ...string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(line, k+"=") }) {
			out = append(out, line)
		}
	}
	return out
}

var autoradioKeys = []string{"AUTORADIO_DOMAIN", "AUTORADIO_NAME", "AUTORADIO_IP",
	"AUTORADIO_ETCD_URLS", "AUTORADIO_NAMESERVERS"}

func TestConfigureNodeWritesBothFiles(t *testing.T) {
	t.Parallel()
	root := newRoot(t)
	mustConfigureNode(t, root, "--name", "node2", "--ip", "192.0.2.12", "--domain", "radio.example.com",
		"--initial-cluster", "node1=http://192.0.2.11:2380,node2=http://192.0.2.12:2380",
		"--cluster-state", "existing", "--nameservers", "node1.example.com,node2.example.com")

	etcd := readEnvFile(t, filepath.Join(root, "etc/default/etcd"))
	wantEtcd := map[string]string{
		"ETCD_NAME":                        "node2",
		"ETCD_DATA_DIR":                    "/var/lib/etcd/autoradio",
		"ETCD_LISTEN_PEER_URLS":            "http://192.0.2.12:2380",
		"ETCD_INITIAL_ADVERTISE_PEER_URLS": "http://192.0.2.12:2380",
		"ETCD_LISTEN_CLIENT_URLS":          "http://192.0.2.12:2379,http://127.0.0.1:2379",
		"ETCD_ADVERTISE_CLIENT_URLS":       "http://192.0.2.12:2379",
		"ETCD_INITIAL_CLUSTER":             "node1=http://192.0.2.11:2380,node2=http://192.0.2.12:2380",
		"ETCD_INITIAL_CLUSTER_STATE":       "existing",
		"ETCD_INITIAL_CLUSTER_TOKEN":       "autoradio",
		"ETCD_PRE_VOTE":                    "true",
	}
	assertEnv(t, "etcd", etcd, wantEtcd)

	ar := readEnvFile(t, filepath.Join(root, "etc/default/autoradio"))
	assertEnv(t, "autoradio", ar, map[string]string{
		"AUTORADIO_DOMAIN":      "radio.example.com",
		"AUTORADIO_NAME":        "node2",
		"AUTORADIO_IP":          "192.0.2.12",
		"AUTORADIO_ETCD_URLS":   "http://192.0.2.11:2379,http://192.0.2.12:2379",
		"AUTORADIO_NAMESERVERS": "node1.example.com,node2.example.com",
	})
}

func assertEnv(t *testing.T, file string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s=%q, want %q", file, k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s=%q", file, k, got[k])
		}
	}
}

// The packaged file keeps its comments and other lines; a second run
// replaces the values instead of adding lines.
func TestConfigureNodeEditsConffileInPlace(t *testing.T) {
	t.Parallel()
	root := newRoot(t)
	path := filepath.Join(root, "etc/default/autoradio")
	orig, _ := os.ReadFile(path)
	mustConfigureNode(t, root, "--name", "node1", "--ip", "192.0.2.11", "--domain", "old.example.com",
		"--nameservers", "ns.example.com")
	mustConfigureNode(t, root, "--name", "node1", "--ip", "192.0.2.11", "--domain", "radio.example.com")
	got, _ := os.ReadFile(path)

	if a, b := withoutKeys(string(orig), autoradioKeys...), withoutKeys(string(got), autoradioKeys...); !slices.Equal(a, b) {
		t.Errorf("lines other than the settings changed:\n%s", strings.Join(b, "\n"))
	}
	env := readEnvFile(t, path)
	assertEnv(t, "autoradio", env, map[string]string{
		"AUTORADIO_DOMAIN":    "radio.example.com",
		"AUTORADIO_NAME":      "node1",
		"AUTORADIO_IP":        "192.0.2.11",
		"AUTORADIO_ETCD_URLS": "http://192.0.2.11:2379",
	})
	// Each value sits under its commented-out example.
	if !strings.Contains(string(got), "#AUTORADIO_DOMAIN=radio.example.com\nAUTORADIO_DOMAIN=radio.example.com\n") {
		t.Errorf("AUTORADIO_DOMAIN not in place:\n%s", got)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("mode of %s: %v, %v", path, info.Mode(), err)
	}
}

func TestConfigureNodeWithoutConffile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mustConfigureNode(t, root, "--name", "n1", "--ip", "2001:db8::1", "--domain", "radio.example.com")
	assertEnv(t, "autoradio", readEnvFile(t, filepath.Join(root, "etc/default/autoradio")), map[string]string{
		"AUTORADIO_DOMAIN":    "radio.example.com",
		"AUTORADIO_NAME":      "n1",
		"AUTORADIO_IP":        "2001:db8::1",
		"AUTORADIO_ETCD_URLS": "http://[2001:db8::1]:2379",
	})
	if got := readEnvFile(t, filepath.Join(root, "etc/default/etcd"))["ETCD_INITIAL_CLUSTER"]; got != "n1=http://[2001:db8::1]:2380" {
		t.Errorf("ETCD_INITIAL_CLUSTER=%q", got)
	}
}

func TestConfigureNodeRefusesBadArguments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ip", "192.0.2.1", "--domain", "d"}, "--name is required"},
		{[]string{"--name", "n", "--domain", "d"}, "--ip is required"},
		{[]string{"--name", "n", "--ip", "192.0.2.1"}, "--domain is required"},
		{[]string{"--name", "n", "--ip", "192.0.2.1", "--domain", "d", "--cluster-state", "old"}, "new or existing"},
		{[]string{"--name", "n", "--ip", "192.0.2.1", "--domain", "d", "--initial-cluster", "m=http://x:2380"}, "does not name n"},
		{[]string{"--name", "n_1", "--ip", "192.0.2.1", "--domain", "d"}, "letters, digits"},
		{[]string{"--name"}, "needs a value"},
		{[]string{"--bogus", "x"}, "unknown option"},
	} {
		root := t.TempDir()
		out, err := configureNode(t, root, tc.args...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("%v: err %v, output %q; want an error with %q", tc.args, err, out, tc.want)
		}
		if entries, _ := os.ReadDir(root); len(entries) != 0 {
			t.Errorf("%v: wrote files despite the error", tc.args)
		}
	}
}

// TestConfigureNodeBootsEtcdCluster starts Debian's etcd with the files
// configure-node writes: three members bootstrapped together, then a
// fourth added at run time as the README describes (etcdctl member add,
// then --cluster-state existing). The daemons' AUTORADIO_ETCD_URLS must
// reach the cluster.
func TestConfigureNodeBootsEtcdCluster(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts four etcd servers")
	}
	testenv.RequireBinaries(t, "etcd")
	ctx := testenv.Context(t, 60*time.Second)

	ips := []string{"127.0.0.201", "127.0.0.202", "127.0.0.203", "127.0.0.204"}
	var initial []string
	for i, ip := range ips[:3] {
		initial = append(initial, fmt.Sprintf("m%d=http://%s:2380", i+1, ip))
	}
	var roots []string
	for i, ip := range ips[:3] {
		roots = append(roots, startMember(t, fmt.Sprintf("m%d", i+1), ip, "new", strings.Join(initial, ",")))
	}
	cli := etcdClient(ctx, t, roots[0])
	if _, err := cli.Put(ctx, "/autoradio-test", "ok"); err != nil {
		t.Fatalf("put through AUTORADIO_ETCD_URLS: %v", err)
	}

	// etcd refuses a new member until every member has been connected
	// for a few seconds ("unhealthy cluster"), as etcdctl does.
	var added *clientv3.MemberAddResponse
	testenv.Eventually(t, 20*time.Second, func() (err error) {
		added, err = cli.MemberAdd(ctx, []string{"http://" + ips[3] + ":2380"})
		return err
	})
	var cluster []string
	for _, m := range added.Members {
		name := m.Name
		if m.ID == added.Member.ID {
			name = "m4"
		}
		cluster = append(cluster, name+"="+m.PeerURLs[0])
	}
	slices.Sort(cluster)
	root4 := startMember(t, "m4", ips[3], "existing", strings.Join(cluster, ","))
	cli4 := etcdClient(ctx, t, root4)
	testenv.Eventually(t, 20*time.Second, func() error {
		resp, err := cli4.Get(ctx, "/autoradio-test")
		if err != nil || len(resp.Kvs) != 1 {
			return fmt.Errorf("the fourth member does not serve the data: %v", err)
		}
		list, err := cli4.MemberList(ctx)
		if err != nil {
			return err
		}
		for _, m := range list.Members {
			if m.Name == "" {
				return fmt.Errorf("member %x has not started", m.ID)
			}
		}
		if len(list.Members) != 4 {
			return fmt.Errorf("%d members", len(list.Members))
		}
		return nil
	})
}

// startMember writes a node's files with configure-node and starts etcd
// with /etc/default/etcd as its environment, as the etcd unit does. It
// returns the node's root.
func startMember(t *testing.T, name, ip, state, initial string) string {
	t.Helper()
	root := newRoot(t)
	mustConfigureNode(t, root, "--name", name, "--ip", ip, "--domain", "radio.test",
		"--initial-cluster", initial, "--cluster-state", state, "--local-client-url", "",
		"--data-dir", filepath.Join(root, "var/lib/etcd/autoradio"))
	cmd := exec.Command("etcd")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + root}
	for k, v := range readEnvFile(t, filepath.Join(root, "etc/default/etcd")) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	testenv.StartCmd(t, cmd)
	return root
}

// etcdClient connects to the endpoints of a node's AUTORADIO_ETCD_URLS.
func etcdClient(ctx context.Context, t *testing.T, root string) *clientv3.Client {
	t.Helper()
	urls := readEnvFile(t, filepath.Join(root, "etc/default/autoradio"))["AUTORADIO_ETCD_URLS"]
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(urls, ","), DialTimeout: 5 * time.Second, Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}
