package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/etcdtest"
	"autoradio/internal/testenv"
)

// handoverCluster is three nodes, each with radiod and redirectord, an
// MP3 mount whose source streams through the second node's front-end, and
// a listener on each node's front-end.
type handoverCluster struct {
	ctx       context.Context
	etcd      *etcdtest.Server
	c         *autoradio.Client
	radiods   []*ct.Radiod
	fes       []*ct.Redirectord
	dnsPort   int
	m         *autoradio.Mount
	listeners []*audiotest.Listener
}

// startHandoverCluster starts the cluster on ips; the first node is the
// master. radiodArgs are given to every radiod.
func startHandoverCluster(t *testing.T, ips []string, timeout time.Duration, radiodArgs ...string) *handoverCluster {
	t.Helper()
	ct.Require(t)
	testenv.RequireBinaries(t, "dig")
	h := &handoverCluster{ctx: testenv.Context(t, timeout), etcd: etcdtest.Start(t)}
	h.c = autoradio.NewClient(h.etcd.Client(), nil)
	icePort, httpPort := ct.FreePort(t, ips...), ct.FreePort(t, ips...)
	h.dnsPort = ct.FreePort(t, ips...)
	for i, ip := range ips {
		args := append([]string{"--http-addr=" + net.JoinHostPort(ip, strconv.Itoa(httpPort))}, radiodArgs...)
		h.radiods = append(h.radiods, ct.StartRadiod(t, h.etcd.URL(), fmt.Sprintf("n%d", i+1), ip, icePort, args...))
		if i == 0 {
			ct.Master(t, h.c, 10*time.Second, h.radiods[0])
		}
	}
	ct.WaitNodesUp(t, h.c, len(ips), 15*time.Second)
	for i, ip := range ips {
		h.fes = append(h.fes, ct.StartRedirectord(t, h.etcd.URL(), fmt.Sprintf("n%d", i+1), ip, icePort, httpPort, h.dnsPort))
	}
	h.m = ct.NewMount(t, "/handover.mp3")
	if err := h.c.CreateMount(h.ctx, h.m); err != nil {
		t.Fatal(err)
	}
	audiotest.Source(t, ct.SourceURL(net.JoinHostPort(ips[1], strconv.Itoa(httpPort)), h.m))
	testenv.Eventually(t, 20*time.Second, func() error { return mountLiveOn(h.c, h.m.Name, len(ips)) })
	for _, f := range h.fes {
		l := audiotest.Listen(h.ctx, f.URL("/_stream"+h.m.Name))
		t.Cleanup(func() { l.Stop() })
		if err := l.WaitBytes(0, 64<<10, 20*time.Second); err != nil {
			t.Fatalf("listener on %s: %v", f.Name, err)
		}
		h.listeners = append(h.listeners, l)
	}
	return h
}

// radioctl runs radioctl against the cluster's etcd.
func (h *handoverCluster) radioctl(t *testing.T, args ...string) string {
	t.Helper()
	args = append([]string{"--etcd-urls", h.etcd.URL(), "--etcd-ca", ""}, args...)
	out, err := exec.CommandContext(h.ctx, testenv.Binary(t, "radioctl"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("radioctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newListeners reports which nodes the front-ends send new listeners to:
// n redirects from every front-end, and every front-end's DNS answer.
func (h *handoverCluster) newListeners(t *testing.T, n int) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, f := range h.fes {
		for range n {
			resp, err := noRedirect.Get(f.URL(h.m.Name))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("GET %s from %s: %s", h.m.Name, f.Name, resp.Status)
			}
			loc := resp.Header.Get("Location")
			for _, r := range h.radiods {
				if strings.HasPrefix(loc, "http://"+r.IP+":") {
					got["redirect to "+r.IP] = true
				}
			}
		}
		for _, a := range digA(t, f.IP, h.dnsPort) {
			got["dns "+a] = true
		}
	}
	return got
}

// sendsTo reports whether the front-ends send new listeners to ip.
func sendsTo(seen map[string]bool, ip string) bool {
	return seen["redirect to "+ip] || seen["dns "+ip]
}

// checkListeners fails the test if a listener was dropped, and logs each
// one's longest wait between two reads and its longest silence since
// mark (the silence fallback while the master changes).
func (h *handoverCluster) checkListeners(t *testing.T, marks []int) {
	t.Helper()
	for i, l := range h.listeners {
		if err := l.WaitBytes(l.Mark(), 16<<10, 10*time.Second); err != nil {
			t.Errorf("listener on %s dropped: %v", h.fes[i].Name, err)
			continue
		}
		silence, err := audiotest.LongestSilence(h.ctx, l.DataSince(marks[i]))
		if err != nil { // a measurement, not a behaviour
			t.Logf("listener on %s: measuring its silences: %v", h.fes[i].Name, err)
		}
		t.Logf("listener on %s: longest wait between reads %v, longest silence %v",
			h.fes[i].Name, l.MaxGap().Round(time.Millisecond), silence.Round(10*time.Millisecond))
	}
}

func marks(ls []*audiotest.Listener) []int {
	out := make([]int, len(ls))
	for i, l := range ls {
		out[i] = l.Mark()
	}
	return out
}

// Draining the master (radioctl drain): another node becomes master at
// once, without waiting for the drained node's lease, which stays alive;
// no listener is dropped, the drained node's own included; the front-ends
// stop sending new listeners to it (redirects and DNS) within about a
// second; radioctl status shows it drained. Undrained, it gets new
// listeners again, and does not take the master role back.
func TestDrainMaster(t *testing.T) {
	h := startHandoverCluster(t, []string{"127.0.0.71", "127.0.0.72", "127.0.0.73"}, 3*time.Minute)
	old := h.radiods[0]
	if seen := h.newListeners(t, 10); !sendsTo(seen, old.IP) {
		t.Fatalf("before the drain, no new listener goes to %s: %v", old.Name, seen)
	}
	before := marks(h.listeners)

	if out := h.radioctl(t, "drain", old.Name); out != old.Name+" drained\n" {
		t.Errorf("radioctl drain: %q", out)
	}
	drained := time.Now()
	next := ct.WaitMaster(t, h.c, 10*time.Second, h.radiods[1].Name, h.radiods[2].Name)
	elected := time.Since(drained)
	testenv.Eventually(t, time.Second, func() error {
		if seen := h.newListeners(t, 5); sendsTo(seen, old.IP) {
			return fmt.Errorf("new listeners still go to %s: %v", old.Name, seen)
		}
		return nil
	})
	excluded := time.Since(drained)
	t.Logf("drain of master %s: %s master after %v; no new listener for %s after %v",
		old.Name, next, elected.Round(time.Millisecond), old.Name, excluded.Round(time.Millisecond))
	// The drained node kept its session: the master role moved because
	// it resigned, not because its lease expired.
	nodes, err := h.c.ListNodes(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(nodes, func(n *autoradio.NodeStatus) bool { return n.Name == old.Name }); i < 0 {
		t.Errorf("%s left the cluster when drained", old.Name)
	}

	// The source moves to the new master; the drained node relays it.
	testenv.Eventually(t, 20*time.Second, func() error { return mountLiveOn(h.c, h.m.Name, 3) })
	for range 5 {
		if seen := h.newListeners(t, 10); sendsTo(seen, old.IP) {
			t.Fatalf("a new listener went to the drained %s: %v", old.Name, seen)
		}
	}
	h.checkListeners(t, before)

	status := h.radioctl(t, "status")
	if !strings.Contains(status, "drained: "+old.Name+" (since ") || !strings.Contains(status, old.Name+" (drained)") {
		t.Errorf("radioctl status does not show %s drained:\n%s", old.Name, status)
	}

	if out := h.radioctl(t, "undrain", old.Name); out != old.Name+" undrained\n" {
		t.Errorf("radioctl undrain: %q", out)
	}
	testenv.Eventually(t, 5*time.Second, func() error {
		if seen := h.newListeners(t, 20); !sendsTo(seen, old.IP) {
			return fmt.Errorf("no new listener goes to the undrained %s: %v", old.Name, seen)
		}
		return nil
	})
	if m, err := h.c.Master(h.ctx); err != nil || m.Name != next {
		t.Errorf("master after undrain: %v, %v; want %s to stay master", m, err, next)
	}
	if status := h.radioctl(t, "status"); strings.Contains(status, "drained") {
		t.Errorf("radioctl status after undrain:\n%s", status)
	}
	for i, l := range h.listeners {
		if err := l.Err(); err != nil {
			t.Errorf("listener on %s dropped: %v", h.fes[i].Name, err)
		}
	}
}

// SIGTERM to the master's radiod (systemctl stop, a package upgrade): the
// master resigns, another node is elected and its Icecast takes the
// mount's source, all before the old master's Icecast exits. The
// listeners on the other nodes stay; their longest silence is logged.
func TestStopMasterHandsOver(t *testing.T) {
	h := startHandoverCluster(t, []string{"127.0.0.81", "127.0.0.82", "127.0.0.83"}, 3*time.Minute,
		"--drain-timeout="+testenv.Bound(10*time.Second).String())
	old := h.radiods[0]
	pid := old.IcecastPID()
	if pid == 0 {
		t.Fatalf("%s: no Icecast found", old.Name)
	}
	before := marks(h.listeners)

	type event struct {
		what string
		at   time.Duration
	}
	events := make(chan event, 8)
	stopped := time.Now()
	go func() { // ends when the old Icecast is gone or the test's time is up
		var elected, gone, served bool
		var next string
		for h.ctx.Err() == nil {
			since := time.Since(stopped)
			if !elected {
				ctx, cancel := context.WithTimeout(h.ctx, time.Second)
				if m, err := h.c.Master(ctx); err == nil && m.Name != old.Name {
					elected, next = true, m.Name
					events <- event{"elected " + m.Name, since}
				}
				cancel()
			}
			if elected && !served {
				// The new master's relay of the mount goes, then the
				// source itself comes.
				i := slices.IndexFunc(h.radiods, func(r *ct.Radiod) bool { return r.Name == next })
				if st, err := h.radiods[i].Status(); err == nil {
					ms, ok := st.Mount(h.m.Name)
					gone = gone || !ok || !ms.SourceConnected
					if gone && ok && ms.SourceConnected {
						served = true
						events <- event{"source on " + next, since}
					}
				}
			}
			if syscall.Kill(pid, 0) != nil {
				events <- event{"old Icecast gone", since}
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	old.Proc.Signal(syscall.SIGTERM)

	var order []string
	deadline := time.After(testenv.Bound(30 * time.Second))
	for done := false; !done; {
		select {
		case e := <-events:
			t.Logf("%v after SIGTERM: %s", e.at.Round(time.Millisecond), e.what)
			order = append(order, strings.Fields(e.what)[0])
			done = e.what == "old Icecast gone"
		case <-deadline:
			t.Fatalf("the old master's Icecast still runs %v after SIGTERM; seen: %v", testenv.Bound(30*time.Second), order)
		}
	}
	if !slices.Equal(order, []string{"elected", "source", "old"}) {
		t.Errorf("order after SIGTERM: %v; want a new master, then the source on it, then the old Icecast gone", order)
	}
	select {
	case <-old.Proc.Done():
	case <-time.After(testenv.Bound(10 * time.Second)):
		t.Errorf("radiod still runs %v after its Icecast exited", testenv.Bound(10*time.Second))
	}
	// The listeners on the other nodes stay; the old master's own listener
	// lost its server.
	h.listeners, h.fes, before = h.listeners[1:], h.fes[1:], before[1:]
	h.checkListeners(t, before)
	if out := old.Proc.Output(); !strings.Contains(out, "handed the master role over") {
		t.Errorf("radiod did not log the handover:\n%s", out)
	}
}

// A drained node gives up its transcoders: another node wins their
// elections and runs liquidsoap, the drained node stops its own.
func TestDrainMovesTranscoder(t *testing.T) {
	ctx, etcd, c := setup(t, 2*time.Minute)
	requireTranscoding(t)
	ips := []string{"127.0.0.76", "127.0.0.77"}
	port := ct.FreePort(t, ips...)
	nodes := []*ct.Radiod{ct.StartRadiod(t, etcd.URL(), "n1", ips[0], port)}
	ct.Master(t, c, 10*time.Second, nodes[0])
	nodes = append(nodes, ct.StartRadiod(t, etcd.URL(), "n2", ips[1], port))
	ct.WaitNodesUp(t, c, 2, 10*time.Second)
	src := createMount(t, ctx, c, "/src.ogg")
	tm := newTranscodingMount(t, "/low.mp3", src.Name, autoradio.Transcoding{Codec: autoradio.CodecMP3, Bitrate: 64})
	if err := c.CreateMount(ctx, tm); err != nil {
		t.Fatal(err)
	}
	runs := func(n *ct.Radiod) error {
		if name, err := transcoderRunner(ctx, c, tm.Name); err != nil || name != n.Name {
			return fmt.Errorf("transcoder run by %q (%v), want %s", name, err, n.Name)
		}
		if len(n.LiquidsoapPIDs()) == 0 {
			return fmt.Errorf("%s runs no liquidsoap", n.Name)
		}
		return nil
	}
	var runner, other *ct.Radiod
	testenv.Eventually(t, 30*time.Second, func() error {
		for i, n := range nodes {
			if runs(n) == nil {
				runner, other = n, nodes[1-i]
				return nil
			}
		}
		return fmt.Errorf("no node runs the transcoder of %s", tm.Name)
	})

	if _, err := c.DrainNode(ctx, runner.Name, time.Now()); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error { return runs(other) })
	testenv.Eventually(t, 10*time.Second, func() error {
		if pids := runner.LiquidsoapPIDs(); len(pids) > 0 {
			return fmt.Errorf("the drained %s still runs liquidsoap %v", runner.Name, pids)
		}
		return nil
	})
}
