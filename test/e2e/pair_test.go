package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/etcdtest"
	"autoradio/internal/testenv"
)

// pair is a two-node cluster on two loopback addresses: radiod (which
// reads its front-end's proxied listener counts) and redirectord on
// each, n1 the master.
type pair struct {
	etcd              *etcdtest.Server
	c                 *autoradio.Client
	ips               []string
	r1, r2            *ct.Radiod
	f1, f2            *ct.Redirectord
	httpPort, dnsPort int
	// monitors are the --monitor-addr of r1, r2, f1 and f2.
	monitors []string
}

// startPair starts a pair on ips; feArgs go to both redirectords.
func startPair(t *testing.T, ips []string, feArgs ...string) *pair {
	t.Helper()
	return startPairWith(t, ips, func(string) []string { return feArgs })
}

// startPairWith is startPair with the arguments of each redirectord
// given by its node's address.
func startPairWith(t *testing.T, ips []string, feArgs func(ip string) []string) *pair {
	t.Helper()
	return startPairArgs(t, ips, nil, feArgs)
}

// startPairArgs is startPairWith with radiodArgs for both radiods.
func startPairArgs(t *testing.T, ips, radiodArgs []string, feArgs func(ip string) []string) *pair {
	t.Helper()
	ct.Require(t)
	etcd := etcdtest.Start(t)
	p := &pair{etcd: etcd, c: autoradio.NewClient(etcd.Client(), nil), ips: ips}
	icePort := ct.FreePort(t, ips...)
	p.httpPort, p.dnsPort = ct.FreePort(t, ips...), ct.FreePort(t, ips...)
	frontend := func(ip string) string { return "--http-addr=" + net.JoinHostPort(ip, strconv.Itoa(p.httpPort)) }
	monitor := func(ip string) string {
		addr := net.JoinHostPort(ip, strconv.Itoa(ct.FreePort(t, ip)))
		p.monitors = append(p.monitors, addr)
		return "--monitor-addr=" + addr
	}
	p.r1 = ct.StartRadiod(t, etcd.URL(), "n1", ips[0], icePort, append([]string{frontend(ips[0]), monitor(ips[0])}, radiodArgs...)...)
	ct.Master(t, p.c, 10*time.Second, p.r1)
	p.r2 = ct.StartRadiod(t, etcd.URL(), "n2", ips[1], icePort, append([]string{frontend(ips[1]), monitor(ips[1])}, radiodArgs...)...)
	ct.WaitNodesUp(t, p.c, 2, 10*time.Second)
	p.f1 = ct.StartRedirectord(t, etcd.URL(), "n1", ips[0], icePort, p.httpPort, p.dnsPort, append([]string{monitor(ips[0])}, feArgs(ips[0])...)...)
	p.f2 = ct.StartRedirectord(t, etcd.URL(), "n2", ips[1], icePort, p.httpPort, p.dnsPort, append([]string{monitor(ips[1])}, feArgs(ips[1])...)...)
	return p
}

// feAddr is host:port of n2's front-end.
func (p *pair) feAddr() string { return p.addr(p.f2) }

// addr is host:port of front-end f.
func (p *pair) addr(f *ct.Redirectord) string {
	return net.JoinHostPort(f.IP, strconv.Itoa(p.httpPort))
}

// liveMount creates a mount named name whose source (audiotest.Source)
// pushes through front-end via, and waits until both nodes serve it.
func (p *pair) liveMount(ctx context.Context, t *testing.T, name string, via *ct.Redirectord) (*autoradio.Mount, *testenv.Proc) {
	t.Helper()
	m := ct.NewMount(t, name)
	if err := p.c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	source := audiotest.Source(t, ct.SourceURL(p.addr(via), m))
	p.r1.WaitSource(15*time.Second, m.Name)
	testenv.Eventually(t, 15*time.Second, func() error { return mountLiveOn(p.c, m.Name, 2) })
	return m, source
}

// statusTitle reads the title of mount in a front-end's /_status.json.
func statusTitle(t *testing.T, f *ct.Redirectord, mount string) string {
	t.Helper()
	type mountView struct {
		Path  string `json:"path"`
		Title string `json:"title"`
	}
	var st struct {
		Mounts []mountView `json:"mounts"`
	}
	if err := json.Unmarshal([]byte(get(t, f.URL("/_status.json"))), &st); err != nil {
		t.Fatalf("%s's /_status.json: %v", f.Name, err)
	}
	i := slices.IndexFunc(st.Mounts, func(m mountView) bool { return m.Path == mount })
	if i < 0 {
		return ""
	}
	return st.Mounts[i].Title
}

// statusTitleIs checks that front-end f's /_status.json shows want as
// mount's title.
func statusTitleIs(t *testing.T, f *ct.Redirectord, mount, want string) error {
	if got := statusTitle(t, f, mount); got != want {
		return fmt.Errorf("title of %s in %s's /_status.json: %q, want %q", mount, f.Name, got, want)
	}
	return nil
}
