package nscluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"

	"autoradio"
	"autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// Domain is the cluster's DNS domain; listeners open
// http://stream.radio.test/<mount>.
const Domain = "radio.test"

// Config of a test cluster. The zero value is usable.
type Config struct {
	// Hosts is the number of nodes. Default: 3.
	Hosts int
	// SessionTTL is radiod's --session-ttl. Default: 3s, so that failures
	// are noticed fast.
	SessionTTL time.Duration
	// EtcdBin is the etcd server program. Default: etcd (Debian's 3.4).
	EtcdBin string
	// EtcdPreVote runs the members with --pre-vote (the default of etcd
	// 3.5 and later, off in 3.4): a member cut off the network does not
	// force a leader election when it comes back.
	EtcdPreVote bool
}

// Cluster is a running test cluster.
type Cluster struct {
	t   testing.TB
	cfg Config
	Net *Net
	// Hosts are the nodes, Hosts[i] in namespace HostNS(i).
	Hosts []*Host
	// Client talks to the cluster's etcd from the clients namespace.
	Client *autoradio.Client
	// HTTP is a client whose connections start in the clients namespace.
	// It does not resolve names: use Resolve, or IP addresses.
	HTTP *http.Client
}

// Require skips (or, in CI, fails) a test that needs root and the real
// programs.
func Require(t testing.TB) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireBinaries(t, "ip", "etcd", "icecast2", "ffmpeg", "dig", "curl")
}

// New creates the network, starts every host and waits until every node
// publishes a working Icecast and answers on its front-end. Everything is
// torn down when the test ends, whatever happened.
func New(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	if cfg.Hosts == 0 {
		cfg.Hosts = 3
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 3 * time.Second
	}
	if cfg.EtcdBin == "" {
		cfg.EtcdBin = "etcd"
	}
	n, err := NewNet(cfg.Hosts, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs last: after every process's own
	// cleanup, it kills whatever is left in the namespaces by PID.
	t.Cleanup(n.Close)
	c := &Cluster{t: t, cfg: cfg, Net: n}
	c.HTTP = &http.Client{Transport: &http.Transport{DialContext: Dialer(ClientsNS), DisableKeepAlives: true}}
	if err := c.writeResolvConf(); err != nil {
		t.Fatal(err)
	}
	for i, ns := range n.Hosts {
		c.Hosts = append(c.Hosts, c.newHost(i, ns))
	}
	for _, h := range c.Hosts {
		h.StartEtcd()
	}
	c.Client = c.etcdClient()
	for _, h := range c.Hosts {
		h.StartDaemons()
	}
	c.WaitNodesUp(len(c.Hosts), 60*time.Second)
	for _, h := range c.Hosts {
		h.waitFrontEnd(t)
	}
	return c
}

func (c *Cluster) newHost(i int, ns string) *Host {
	// Not t.TempDir: its parent is private, and Icecast, once it dropped
	// root, must traverse the state directory.
	dir, err := os.MkdirTemp("", "nscluster-"+ns+"-")
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { os.RemoveAll(dir) })
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o755); err != nil {
		c.t.Fatal(err)
	}
	for _, d := range []string{dir, state} {
		os.Chmod(d, 0o755)
	}
	return &Host{c: c, Index: i, Name: fmt.Sprintf("node%d", i+1), NS: ns, IP: HostIP(i),
		StateDir: state, EtcdDir: filepath.Join(dir, "etcd")}
}

// writeResolvConf gives the clients namespace the cluster's front-ends as
// its name servers: `ip netns exec` mounts /etc/netns/NS/resolv.conf over
// /etc/resolv.conf, so ffmpeg and curl there resolve stream.radio.test as
// a user whose resolver was delegated the domain would.
func (c *Cluster) writeResolvConf() error {
	dir := filepath.Join("/etc/netns", ClientsNS)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	for i := range c.cfg.Hosts {
		fmt.Fprintf(&b, "nameserver %s\n", HostIP(i))
	}
	b.WriteString("options timeout:1 attempts:2\n")
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(b.String()), 0o644)
}

func (c *Cluster) initialCluster() string {
	var parts []string
	for _, h := range c.Hosts {
		parts = append(parts, h.Name+"="+h.etcdPeerURL())
	}
	return strings.Join(parts, ",")
}

// EtcdURLs are the client URLs of every member, as the daemons get them.
func (c *Cluster) EtcdURLs() string {
	var urls []string
	for _, h := range c.Hosts {
		urls = append(urls, h.etcdClientURL())
	}
	return strings.Join(urls, ",")
}

// etcdClient connects to every member from the clients namespace.
func (c *Cluster) etcdClient() *autoradio.Client {
	c.t.Helper()
	cfg, err := autoradio.EtcdConfig{Endpoints: strings.Split(c.EtcdURLs(), ",")}.ClientConfig()
	if err != nil {
		c.t.Fatal(err)
	}
	dial := Dialer(ClientsNS)
	cfg.DialOptions = append(cfg.DialOptions, grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
		return dial(ctx, "tcp", addr)
	}))
	cli, err := clientv3.New(cfg)
	if err != nil {
		c.t.Fatalf("nscluster: etcd client: %v", err)
	}
	c.t.Cleanup(func() { cli.Close() })
	return autoradio.NewClient(cli, slog.New(slog.DiscardHandler))
}

// WaitNodesUp waits until n nodes publish a working Icecast.
func (c *Cluster) WaitNodesUp(n int, timeout time.Duration) {
	c.t.Helper()
	clustertest.WaitNodesUp(c.t, c.Client, n, timeout)
}

// Master returns the host elected master, waiting up to timeout for one
// that is not in except.
func (c *Cluster) Master(timeout time.Duration, except ...*Host) *Host {
	c.t.Helper()
	var names []string
	for _, h := range c.Hosts {
		if !slices.Contains(except, h) {
			names = append(names, h.Name)
		}
	}
	return c.Host(clustertest.WaitMaster(c.t, c.Client, timeout, names...))
}

// Host returns the host named name, or nil.
func (c *Cluster) Host(name string) *Host {
	for _, h := range c.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}
