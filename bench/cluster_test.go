//go:build bench

package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"autoradio"
	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/etcdtest"
	"autoradio/internal/loadgen"
	"autoradio/internal/testenv"
)

var (
	convergeMounts = flag.Int("bench.converge-mounts", 20, "mounts created one by one in the convergence run")
	failoverRuns   = flag.Int("bench.failover-runs", 5, "kills of the master in the failover run")
	etcdWindow     = flag.Duration("bench.etcd-window", 60*time.Second, "steady-state window of the etcd load run")
)

var clusterIPFlag = flag.String("bench.cluster-ips", "127.0.0.51,127.0.0.52,127.0.0.53", "loopback addresses of the 3-node cluster")

// clusterIPs are the loopback addresses of the 3-node cluster, set from
// -bench.cluster-ips by setupCluster.
var clusterIPs []string

type cluster struct {
	t                          *testing.T
	etcd                       *etcdtest.Server
	cli                        *clientv3.Client
	c                          *autoradio.Client
	nodes                      []*ct.Radiod
	fes                        []*ct.Redirectord
	icePort, httpPort, dnsPort int
}

func benchCluster(t *testing.T, res *Results) {
	cl := setupCluster(t)
	child(t, "convergence", func(t *testing.T) { cl.convergence(t, res) })
	child(t, "failover", func(t *testing.T) { cl.failover(t, res) })
	child(t, "etcd", func(t *testing.T) { cl.etcdLoad(t, res) })
}

func setupCluster(t *testing.T) *cluster {
	clusterIPs = strings.Split(*clusterIPFlag, ",")
	cl := &cluster{t: t, etcd: etcdtest.Start(t)}
	cl.cli = cl.etcd.Client()
	cl.c = autoradio.NewClient(cl.cli, nil)
	cl.icePort, cl.httpPort, cl.dnsPort = ct.FreePort(t, clusterIPs...), ct.FreePort(t, clusterIPs...), ct.FreePort(t, clusterIPs...)
	for i, ip := range clusterIPs {
		n := ct.StartRadiod(t, cl.etcd.URL(), fmt.Sprintf("n%d", i+1), ip, cl.icePort)
		track(t, n.Proc.PID())
		if i == 0 {
			ct.Master(t, cl.c, 15*time.Second, n)
		}
		cl.nodes = append(cl.nodes, n)
	}
	ct.WaitNodesUp(t, cl.c, len(clusterIPs), 20*time.Second)
	for i := range cl.nodes {
		cl.fes = append(cl.fes, nil)
		cl.startFrontend(i)
		track(t, cl.nodes[i].IcecastPID())
	}
	return cl
}

func (cl *cluster) startFrontend(i int) {
	n := cl.nodes[i]
	cl.fes[i] = ct.StartRedirectord(cl.t, cl.etcd.URL(), n.Name, n.IP, cl.icePort, cl.httpPort, cl.dnsPort)
	track(cl.t, cl.fes[i].Proc.PID())
}

// liveOn tells whether node's Icecast has a live source for mount (on a
// relay: a running relay of it).
func liveOn(n *ct.Radiod, mount string) error {
	st, err := n.Status()
	if err != nil {
		return err
	}
	if ms, ok := st.Mount(mount); !ok || !ms.SourceConnected {
		return fmt.Errorf("%s: %s not live", n.Name, mount)
	}
	return nil
}

// waitLive waits until mount is live on every node given and returns,
// per node, the time from t0 it became so.
func waitLive(ctx context.Context, t0 time.Time, timeout time.Duration, mount string, nodes ...*ct.Radiod) ([]float64, error) {
	return waitNodes(t0, nodes, func(n *ct.Radiod) error {
		return testenv.Poll(ctx, timeout, func() error { return liveOn(n, mount) })
	})
}

// waitBack is waitLive for a mount that goes off the air on every node
// given after t0 (the master is gone, and each node's Icecast loses its
// relay of the mount, or on the new master the relay gives way to the
// source): it waits until each has been seen without the mount live and
// then with it live again, and returns when, from t0. Polled every 50 ms:
// a shorter outage may go unseen, and then times out.
func waitBack(ctx context.Context, t0 time.Time, timeout time.Duration, mount string, nodes ...*ct.Radiod) ([]float64, error) {
	return waitNodes(t0, nodes, func(n *ct.Radiod) error {
		gone := false
		return testenv.Poll(ctx, timeout, func() error {
			err := liveOn(n, mount)
			if !gone && err == nil {
				return fmt.Errorf("%s: %s not lost yet", n.Name, mount)
			}
			gone = true
			return err
		})
	})
}

// waitNodes runs wait for every node at once and returns, per node, the
// time from t0 until its wait returned, and their errors.
func waitNodes(t0 time.Time, nodes []*ct.Radiod, wait func(*ct.Radiod) error) ([]float64, error) {
	times := make([]float64, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			errs[i] = wait(n)
			times[i] = time.Since(t0).Seconds()
		})
	}
	wg.Wait()
	return times, errors.Join(errs...)
}

// checkAudio captures two seconds of mount from each node's Icecast and
// checks with ffmpeg that it decodes. A capture that caught Icecast's
// switch from the silence fallback to the live source may hold a broken
// frame, so each node gets a few tries.
func checkAudio(ctx context.Context, mount string, nodes ...*ct.Radiod) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			errs[i] = testenv.Poll(ctx, 10*time.Second, func() error {
				data, err := audiotest.Capture(ctx, n.URL(mount), 1500*time.Millisecond)
				if err == nil {
					err = audiotest.DecodeJoined(ctx, data, time.Second)
				}
				if err != nil {
					return fmt.Errorf("%s: %w", n.Name, err)
				}
				return nil
			})
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (cl *cluster) master(t *testing.T) (int, *ct.Radiod) {
	m := ct.Master(t, cl.c, 30*time.Second, cl.nodes...)
	for i, n := range cl.nodes {
		if n == m {
			return i, n
		}
	}
	return -1, nil
}

// convergence creates mounts one by one, each with its source already
// trying to connect to the master, and times create → live everywhere.
func (cl *cluster) convergence(t *testing.T, res *Results) {
	ctx := context.Background()
	_, master := cl.master(t)
	for i := range *convergeMounts {
		m := ct.NewMount(t, fmt.Sprintf("/conv%02d.mp3", i))
		src := audiotest.Source(t, ct.SourceURL(master.Addr(), m))
		track(t, src.PID())
		t0 := time.Now()
		if err := cl.c.CreateMount(ctx, m); err != nil {
			t.Fatal(err)
		}
		times, err := waitLive(ctx, t0, 30*time.Second, m.Name, cl.nodes...)
		if err != nil {
			t.Errorf("%s: %v", m.Name, err)
			src.Kill()
			continue
		}
		if err := checkAudio(ctx, m.Name, cl.nodes...); err != nil {
			t.Errorf("%s: live but no decodable audio: %v", m.Name, err)
		}
		t.Logf("%s: live after %v s", m.Name, times)
		res.Converge = append(res.Converge, times...)
		src.Kill()
	}
}

// failover takes the master away with listeners on the two other nodes'
// relays, the source pushing through a surviving front-end: by killing
// its host (radiod, Icecast, redirectord), or by stopping its radiod as
// systemctl stop does (SIGTERM: it hands the master role over first; its
// redirectord keeps running). The two alternate.
func (cl *cluster) failover(t *testing.T, res *Results) {
	ctx := context.Background()
	m := ct.NewMount(t, "/failover.mp3")
	if err := cl.c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	const perNode = 10
	for run := range 2 * *failoverRuns {
		kill := run%2 == 0
		mi, master := cl.master(t)
		var survivors []*ct.Radiod
		var fes []*ct.Redirectord
		for i, n := range cl.nodes {
			if i != mi {
				survivors = append(survivors, n)
				fes = append(fes, cl.fes[i])
			}
		}
		via := fes[len(fes)-1]
		src := audiotest.Source(t, ct.SourceURL(strings.TrimPrefix(via.URL(""), "http://"), m))
		track(t, src.PID())
		if _, err := waitLive(ctx, time.Now(), 30*time.Second, m.Name, cl.nodes...); err != nil {
			t.Fatalf("before the kill: %v", err)
		}
		reps := make([]*loadgen.Report, len(survivors))
		var wg sync.WaitGroup
		for i, n := range survivors {
			wg.Go(func() {
				cfg := loadgen.Config{URL: n.URL(m.Name), Listeners: perNode, Duration: 12 * time.Second}
				rep, err := loadgen.Run(ctx, cfg)
				if err != nil {
					t.Errorf("listeners on %s: %v", n.Name, err)
					return
				}
				reps[i] = rep
			})
		}
		for _, n := range survivors {
			testenv.Eventually(t, 10*time.Second, func() error {
				st, err := n.Status()
				if err != nil {
					return err
				}
				if ms, _ := st.Mount(m.Name); ms.Listeners < perNode {
					return fmt.Errorf("%s: %d listeners", n.Name, ms.Listeners)
				}
				return nil
			})
		}

		heard := listenFrontends(t, ctx, m.Name, fes)

		t0 := time.Now()
		heard.mark()
		fr := FailoverRun{Stopped: !kill}
		if kill {
			master.KillHost()
			cl.fes[mi].Proc.Kill()
		} else {
			// Signalled, not waited for: radiod stops only once the next
			// master serves the mounts, which is what is measured.
			master.Proc.Signal(syscall.SIGTERM)
		}
		var newMaster *ct.Radiod
		err := testenv.Poll(ctx, 30*time.Second, func() error {
			mc, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			info, err := cl.c.Master(mc)
			if err != nil {
				return err
			}
			for _, n := range survivors {
				if n.Name == info.Name {
					newMaster = n
					return nil
				}
			}
			return fmt.Errorf("master is still %s", info.Name)
		})
		fr.NewMaster = time.Since(t0).Seconds()
		if err != nil {
			t.Fatalf("no new master: %v", err)
		}
		if ts, err := waitBack(ctx, t0, 30*time.Second, m.Name, newMaster); err == nil {
			fr.SourceBack = ts[0]
		} else {
			t.Errorf("source on the new master: %v", err)
		}
		// The other nodes' relays may not show the outage at all (a relay
		// reconnects within the status poll): audio is back on every node
		// once the new master has the source and every relay is live.
		if ts, err := waitLive(ctx, t0, 30*time.Second, m.Name, survivors...); err == nil {
			fr.AudioBack = max(ts[0], ts[1])
		} else {
			t.Errorf("audio after failover: %v", err)
		}
		if err := checkAudio(ctx, m.Name, survivors...); err != nil {
			t.Errorf("after failover: %v", err)
		}
		heard.measure(ctx, t, &fr)
		wg.Wait()
		for _, rep := range reps {
			if rep != nil {
				fr.Listeners += rep.Listeners
				fr.Disconnected += int64(rep.Listeners - rep.Kept)
			}
		}
		t.Logf("failover: %+v", fr)
		res.Failover = append(res.Failover, fr)

		src.Kill()
		if !kill {
			// As systemd's TimeoutStopSec: a handover lasts 8-12 s and
			// radiod's --drain-timeout is 20 s.
			master.Proc.Stop(30 * time.Second)
		}
		master.Start()
		track(t, master.Proc.PID())
		if kill {
			cl.startFrontend(mi)
		}
		ct.WaitNodesUp(t, cl.c, len(cl.nodes), 30*time.Second)
		track(t, master.IcecastPID())
	}
}

// frontendListeners are listeners through the surviving nodes'
// front-ends, as a player that followed a redirect hears the mount.
type frontendListeners struct {
	ls    []*audiotest.Listener
	names []string
	marks []int
}

// perFrontend is how many listeners each surviving front-end gets.
const perFrontend = 2

// listenFrontends attaches perFrontend listeners to mount at each
// front-end's /_stream/ (where its redirects send a player in proxy mode;
// straight there, so that the load balancer does not send one to the node
// the fault takes away) and waits until each plays.
func listenFrontends(t *testing.T, ctx context.Context, mount string, fes []*ct.Redirectord) *frontendListeners {
	t.Helper()
	h := &frontendListeners{}
	for _, f := range fes {
		for range perFrontend {
			l := audiotest.Listen(ctx, f.URL("/_stream"+mount))
			t.Cleanup(func() { l.Stop() })
			h.ls, h.names = append(h.ls, l), append(h.names, f.Name)
		}
	}
	for i, l := range h.ls {
		if err := l.WaitBytes(0, 32<<10, testenv.Bound(20*time.Second)); err != nil {
			t.Fatalf("front-end listener on %s before the fault: %v", h.names[i], err)
		}
	}
	return h
}

// mark notes where each capture stands at the fault, and forgets the
// gaps before it.
func (h *frontendListeners) mark() {
	h.marks = make([]int, len(h.ls))
	for i, l := range h.ls {
		l.ResetMaxGap()
		h.marks[i] = l.Mark()
	}
}

// heardAfter is how long after audio is back on every node the listeners
// keep listening: 5 s of the 128 kbit/s stream.
const heardAfter = 5 * 128_000 / 8

// measure lets every listener play on for about 5 s, stops it, and sets
// in fr the worst time without audio over them since the mark (longest
// time without data plus longest silence heard) and how many dropped.
func (h *frontendListeners) measure(ctx context.Context, t *testing.T, fr *FailoverRun) {
	t.Helper()
	fr.FrontendListeners = len(h.ls)
	back := make([]int, len(h.ls))
	for i, l := range h.ls {
		back[i] = l.Mark()
	}
	worst := time.Duration(-1)
	for i, l := range h.ls {
		if err := l.WaitBytes(back[i], heardAfter, testenv.Bound(20*time.Second)); err != nil {
			t.Logf("front-end listener on %s dropped: %v", h.names[i], err)
			fr.FrontendDropped++
		}
		gap := l.MaxGap()
		silence, err := audiotest.LongestSilence(ctx, l.DataSince(h.marks[i]))
		if err != nil {
			t.Errorf("front-end listener on %s: %v", h.names[i], err)
		}
		l.Stop()
		t.Logf("front-end listener on %s: %v without data, %v of silence", h.names[i],
			gap.Round(time.Millisecond), silence.Round(10*time.Millisecond))
		if gap+silence > worst {
			worst = gap + silence
			fr.FrontendGap, fr.FrontendSilence = gap.Seconds(), silence.Seconds()
		}
	}
}

// etcdLoad counts etcd writes over a steady-state window while listeners
// come and go on every node.
func (cl *cluster) etcdLoad(t *testing.T, res *Results) {
	ctx := context.Background()
	m := ct.NewMount(t, "/steady.mp3")
	if err := cl.c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	src := audiotest.Source(t, ct.SourceURL(strings.TrimPrefix(cl.fes[0].URL(""), "http://"), m))
	track(t, src.PID())
	if _, err := waitLive(ctx, time.Now(), 30*time.Second, m.Name, cl.nodes...); err != nil {
		t.Fatal(err)
	}
	get, err := cl.cli.Get(ctx, "/icecast/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	rev0 := get.Header.Revision
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	perKey := map[string]int64{}
	var seen atomic.Int64 // the revision the watch has delivered up to
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		watch := cl.cli.Watch(wctx, "/icecast/", clientv3.WithPrefix(), clientv3.WithRev(rev0+1), clientv3.WithProgressNotify())
		for wr := range watch {
			for _, ev := range wr.Events {
				perKey[keyClass(string(ev.Kv.Key))]++
			}
			seen.Store(wr.Header.Revision)
		}
	}()

	start := time.Now()
	lctx, stop := context.WithTimeout(ctx, *etcdWindow)
	defer stop()
	opened := churn(lctx, m.Name, cl.nodes)
	secs := time.Since(start).Seconds()
	get, err = cl.cli.Get(ctx, "/icecast/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	rev1 := get.Header.Revision
	// Writes outside /icecast/ (none expected) would only show as a
	// difference between the revisions and the watch's count.
	testenv.Poll(ctx, 5*time.Second, func() error {
		if err := cl.cli.RequestProgress(ctx); err != nil {
			return err
		}
		if seen.Load() < rev1 {
			return fmt.Errorf("watch at revision %d of %d", seen.Load(), rev1)
		}
		return nil
	})
	stopWatch()
	<-watched
	res.Etcd = &EtcdLoad{Seconds: secs, Nodes: len(cl.nodes), Writes: rev1 - rev0, PerKey: perKey, Listeners: opened}
	src.Kill()
}

// churn opens a listener on a random node every 250 ms, each staying 1
// to 5 s, until ctx ends; it returns how many it opened.
func churn(ctx context.Context, mount string, nodes []*ct.Radiod) int {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	opened := 0
	for {
		select {
		case <-ctx.Done():
			return opened
		case <-tick.C:
		}
		opened++
		url := nodes[rand.IntN(len(nodes))].URL(mount)
		stay := time.Second + rand.N(4*time.Second)
		wg.Go(func() {
			lctx, cancel := context.WithTimeout(ctx, stay)
			defer cancel()
			req, _ := http.NewRequestWithContext(lctx, http.MethodGet, url, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
}

// keyClass groups etcd keys for the report: node status keys by node,
// the others by their first two levels.
func keyClass(key string) string {
	parts := strings.SplitN(key, "/", 5) // "", "icecast", kind, name, rest
	if len(parts) >= 4 && parts[2] == "nodes" {
		return strings.Join(parts[:4], "/")
	}
	if len(parts) >= 3 {
		return strings.Join(parts[:3], "/") + "/…"
	}
	return key
}
