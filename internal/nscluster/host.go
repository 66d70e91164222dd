package nscluster

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"autoradio/internal/testenv"
	"autoradio/node/icecast"
)

// Ports every host uses on its own address.
const (
	IcecastPort = 8000
	// MonitorPort serves radiod's /metrics.
	MonitorPort = 2112
	etcdClient  = 2379
	etcdPeer    = 2380
)

// Host is one node of the cluster: a namespace running an etcd member,
// radiod (which runs Icecast) and redirectord.
type Host struct {
	c                 *Cluster
	Index             int
	Name, NS, IP      string
	StateDir, EtcdDir string

	Etcd, Radiod, Redirectord *testenv.Proc
}

func (h *Host) etcdPeerURL() string   { return fmt.Sprintf("http://%s:%d", h.IP, etcdPeer) }
func (h *Host) etcdClientURL() string { return fmt.Sprintf("http://%s:%d", h.IP, etcdClient) }

// start runs the process name with args in the host's namespace.
func (h *Host) start(name string, args ...string) *testenv.Proc {
	return testenv.StartCmd(h.c.t, Command(h.NS, name, args...))
}

// StartEtcd runs the host's etcd member on its data directory: a new
// member of the initial cluster the first time, the same member after.
func (h *Host) StartEtcd() {
	h.c.t.Helper()
	args := []string{"--name", h.Name, "--data-dir", h.EtcdDir,
		"--listen-peer-urls", h.etcdPeerURL(), "--initial-advertise-peer-urls", h.etcdPeerURL(),
		"--listen-client-urls", h.etcdClientURL(), "--advertise-client-urls", h.etcdClientURL(),
		"--initial-cluster", h.c.initialCluster(), "--initial-cluster-state", "new",
		"--initial-cluster-token", "autoradio-nscluster", "--log-level", "info"}
	if h.c.cfg.EtcdPreVote {
		args = append(args, "--pre-vote")
	}
	h.Etcd = h.start(h.c.cfg.EtcdBin, args...)
}

// StopEtcd kills the host's etcd member (SIGKILL, by PID).
func (h *Host) StopEtcd() { h.Etcd.Kill() }

// StartRadiod runs radiod, which starts Icecast.
func (h *Host) StartRadiod() {
	h.c.t.Helper()
	h.Radiod = h.start(testenv.Binary(h.c.t, "radiod"),
		"--name", h.Name, "--ip", h.IP, "--icecast-port", fmt.Sprint(IcecastPort),
		"--etcd-urls", h.c.EtcdURLs(), "--state-dir", h.StateDir,
		"--session-ttl", h.c.cfg.SessionTTL.String(), "--monitor-addr", fmt.Sprintf("%s:%d", h.IP, MonitorPort), "--interface", "eth0",
		"--http-addr", h.IP+":80")
}

// StartRedirectord runs the front-end: DNS on :53 and HTTP on :80 of the
// host's address.
func (h *Host) StartRedirectord() {
	h.c.t.Helper()
	h.Redirectord = h.start(testenv.Binary(h.c.t, "redirectord"),
		"--name", h.Name, "--ip", h.IP, "--domain", Domain, "--icecast-port", fmt.Sprint(IcecastPort),
		"--http-addr", h.IP+":80", "--dns-addr", h.IP+":53",
		"--etcd-urls", h.c.EtcdURLs(), "--monitor-addr", "")
}

// StopDaemons stops radiod (which stops Icecast) and redirectord with
// SIGTERM, as a service manager would, and kills what is left of them.
// radiod goes first, as on a package upgrade: a master hands its role
// over while the front-end still holds its sources and listeners.
func (h *Host) StopDaemons() {
	h.StopRadiod()
	h.Redirectord.Stop(5 * time.Second)
}

// StartDaemons starts radiod and redirectord again.
func (h *Host) StartDaemons() {
	h.c.t.Helper()
	h.StartRadiod()
	h.StartRedirectord()
}

// StopRadiod stops radiod with SIGTERM, as systemctl stop does (a master
// hands its role over first, within its --drain-timeout), and makes sure
// its Icecast is gone too. The front-end keeps running.
func (h *Host) StopRadiod() {
	h.Radiod.Stop(30 * time.Second)
	h.killIcecast()
}

// killIcecast kills an Icecast left in the namespace by a stopped radiod
// (Icecast drops root, and with it the parent-death signal), and waits
// until it is gone, so that a new one can bind its port.
func (h *Host) killIcecast() {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		left := false
		for _, pid := range NamespacePIDs(h.NS) {
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); strings.HasSuffix(exe, "icecast2") {
				killPID(pid)
				left = true
			}
		}
		if !left {
			return
		}
		time.Sleep(50 * time.Millisecond) // the kernel reaps it; look again
	}
	h.c.t.Errorf("%s: Icecast still running 5 s after SIGKILL", h.Name)
}

// Kill kills every process in the host's namespace with SIGKILL: the
// host dies as a whole, etcd member included.
func (h *Host) Kill() {
	KillNamespace(h.NS)
	for _, p := range []*testenv.Proc{h.Etcd, h.Radiod, h.Redirectord} {
		<-p.Done()
	}
}

// Partition cuts the host off the network (its link down), or heals it.
func (h *Host) Partition(cut bool) {
	h.c.t.Helper()
	if err := SetLink(h.NS, !cut); err != nil {
		h.c.t.Fatal(err)
	}
}

// Get fetches path from the host's address on port, from the clients
// namespace.
func (h *Host) Get(ctx context.Context, port int, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s:%d%s", h.IP, port, path), nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: GET %s: %s", h.Name, path, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// Status reads the host's Icecast status.
func (h *Host) Status(ctx context.Context) (*icecast.Status, error) {
	data, err := h.Get(ctx, IcecastPort, icecast.StatusPath)
	if err != nil {
		return nil, err
	}
	return icecast.ParseStatus(data)
}

// Counter reads a counter of radiod's /metrics (0 when it has no
// samples).
func (h *Host) Counter(ctx context.Context, name string) (float64, error) {
	data, err := h.Get(ctx, MonitorPort, "/metrics")
	if err != nil {
		return 0, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		return 0, fmt.Errorf("%s: /metrics: %w", h.Name, err)
	}
	var sum float64
	for _, m := range families[name].GetMetric() {
		sum += m.GetCounter().GetValue()
	}
	return sum, nil
}

// HasSource reports whether the host's Icecast has a live source (its
// own, or a relay) for mount.
func (h *Host) HasSource(ctx context.Context, mount string) bool {
	st, err := h.Status(ctx)
	if err != nil {
		return false
	}
	m, ok := st.Mount(mount)
	return ok && m.SourceConnected
}

// AcceptsSources reports whether the host's current Icecast config lets
// a source connect to mount: only the master's config has the mount's
// source credentials; every other node relays it.
func (h *Host) AcceptsSources(mount string) bool {
	creds, ok := h.ConfigMounts()[mount]
	return ok && creds
}

// ConfigMounts reads the host's current Icecast config: its mounts, each
// with whether it has source credentials (true on the master).
func (h *Host) ConfigMounts() map[string]bool {
	data, err := os.ReadFile(filepath.Join(h.StateDir, "icecast.xml"))
	if err != nil {
		return nil
	}
	var cfg struct {
		Mounts []struct {
			Name     string `xml:"mount-name"`
			Username string `xml:"username"`
		} `xml:"mount"`
	}
	if xml.Unmarshal(data, &cfg) != nil {
		return nil
	}
	mounts := make(map[string]bool, len(cfg.Mounts))
	for _, m := range cfg.Mounts {
		mounts[m.Name] = m.Username != ""
	}
	return mounts
}

// IcecastRunning reports whether an Icecast process runs in the host.
func (h *Host) IcecastRunning() bool {
	for _, pid := range NamespacePIDs(h.NS) {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); strings.HasSuffix(exe, "icecast2") {
			return true
		}
	}
	return false
}

// waitFrontEnd waits until the host's front-end answers HTTP.
func (h *Host) waitFrontEnd(t testing.TB) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, func() error {
		_, err := h.Get(context.Background(), 80, "/_status.json")
		return err
	})
}
