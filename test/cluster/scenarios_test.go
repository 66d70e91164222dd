//go:build cluster

package cluster

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/nscluster"
	"autoradio/internal/testenv"
)

// faultDuration is how long a partition or an etcd outage lasts.
const faultDuration = 30 * time.Second

// holdFault waits until the fault has lasted faultDuration: the length of
// the outage is what is being tested, not a readiness wait.
func (s *scenario) holdFault() {
	time.Sleep(time.Until(s.fault.Add(faultDuration)))
}

// 1. The master's host dies: radiod, Icecast, redirectord and its etcd
// member, all killed at once.
func TestKillMasterHost(t *testing.T) {
	s := startAway(t, "1. kill -9 the master's host", 3*time.Second)
	master := s.c.Master(20 * time.Second)
	s.injected()
	master.Kill()
	next := s.c.Master(30*time.Second, master)
	elected := time.Since(s.fault)
	s.waitServed(s.mount.Name, s.others(master), 60*time.Second)
	// The source's front-end survived: it holds the source and moves it
	// to the new master, so the source client never notices.
	s.fig.Notes = fmt.Sprintf("%s elected after %s; source (through %s's front-end) reconnected %d times", next.Name, secs(elected), s.srcVia, s.src.Connections()-1)
	if n := s.src.Connections() - 1; n != 0 {
		t.Errorf("the source reconnected %d times; its front-end should have held it", n)
	}
	s.notDropped(master)
	s.finish(s.others(master))
}

// 2. A node that is not the master dies: its listeners come back through
// DNS and the redirect, and once its session has expired no new listener
// is sent to it.
func TestKillRelayHost(t *testing.T) {
	s := start(t, "2. kill -9 a non-master host", 0)
	master := s.c.Master(20 * time.Second)
	victim := s.busiest(s.others(master))
	on := s.listenersOn(victim)
	s.injected()
	victim.Kill()
	// After the TTL, the node's presence is gone: wait for it, then check
	// the answers of DNS and of every surviving front-end.
	s.c.WaitNodesUp(2, 30*time.Second)
	testenv.Eventually(t, sessionTTL+5*time.Second, func() error {
		nodes, err := s.c.Client.ListNodes(s.ctx)
		if err != nil {
			return err
		}
		if len(nodes) != 2 {
			return fmt.Errorf("%d nodes registered", len(nodes))
		}
		return nil
	})
	gone := time.Since(s.fault)
	got, err := s.targets(s.others(victim), 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range got {
		if strings.Contains(target, victim.IP) {
			t.Errorf("a new listener was sent to the dead node %s after its TTL: %s", victim.Name, target)
		}
	}
	s.fig.Notes = fmt.Sprintf("%d listeners were on %s; its presence expired after %s; %d DNS answers and redirects after that, none to it",
		on, victim.Name, secs(gone), len(got))
	s.notDropped(victim)
	s.finish(s.others(victim))
}

// 3. The master is cut off the network for 30 s, then comes back: the
// majority elects a new master, and the old one rejoins as a relay. The
// source pushes through another node's front-end, so that the cut takes
// the master away, not the source's own connection.
func TestPartitionMaster(t *testing.T) {
	s := startAway(t, "3. partition the master 30 s", 5*time.Second)
	master := s.c.Master(20 * time.Second)
	s.injected()
	master.Partition(true)
	next := s.c.Master(30*time.Second, master)
	elected := time.Since(s.fault)
	s.waitServed(s.mount.Name, s.others(master), 60*time.Second)
	s.holdFault()
	healed := time.Now()
	master.Partition(false)
	testenv.Eventually(t, 60*time.Second, func() error {
		if master.AcceptsSources(s.mount.Name) {
			return fmt.Errorf("%s still has the master's config", master.Name)
		}
		if !master.HasSource(s.ctx, s.mount.Name) {
			return fmt.Errorf("%s does not relay %s", master.Name, s.mount.Name)
		}
		return nil
	})
	rejoined := time.Since(healed)
	d, who := s.mon.SplitBrain()
	after := s.mon.LastSplit().Sub(healed)
	s.fig.SplitBrain = splitText(d, who)
	if after > 0 {
		s.fig.SplitBrain += fmt.Sprintf(", until %s after the heal", secs(after))
	}
	// The isolated node cannot be reached by any client, so two masters
	// never both had a source; but once healed, only one may remain.
	if after > sessionTTL+5*time.Second {
		t.Errorf("two nodes accepted sources until %s after the heal", secs(after))
	}
	s.fig.Notes = fmt.Sprintf("%s elected after %s; %s back as a relay %s after the heal",
		next.Name, secs(elected), master.Name, secs(rejoined))
	s.notDropped(master)
	s.finish(s.c.Hosts)
}

// 4. etcd loses quorum for 30 s (two members of three stopped): Icecast
// keeps serving from the last known state, old and new listeners play,
// and the cluster works again once the members are back.
func TestEtcdQuorumLoss(t *testing.T) {
	s := start(t, "4. etcd quorum lost 30 s", 0)
	master := s.c.Master(20 * time.Second)
	stopped := []*nscluster.Host{master, s.others(master)[0]}
	s.injected()
	for _, h := range stopped {
		h.StopEtcd()
	}
	// Once every session has expired, new listeners must still play.
	time.Sleep(2 * sessionTTL)
	var late []*nscluster.Listener
	for range 2 {
		l := s.c.Listen(s.ctx, s.mount.Name)
		t.Cleanup(func() { l.Stop() })
		late = append(late, l)
	}
	for i, l := range late {
		testenv.Eventually(t, 20*time.Second, func() error {
			if n := l.Bytes(); n < 32<<10 {
				return fmt.Errorf("new listener %d during the outage: %d bytes", i, n)
			}
			return nil
		})
	}
	lateOn := make([]string, len(late))
	for i, l := range late {
		lateOn[i] = l.Node()
	}
	s.holdFault()
	back := time.Now()
	for _, h := range stopped {
		h.StartEtcd()
	}
	s.c.WaitNodesUp(len(s.c.Hosts), 60*time.Second)
	now := s.c.Master(30 * time.Second)
	// The cluster takes changes again: a new mount reaches every node.
	m := s.createMount("/after.mp3")
	s.c.StartSource(t, m)
	reached := s.waitServed(m.Name, s.c.Hosts, 60*time.Second)
	s.fig.Notes = fmt.Sprintf("etcd of %s and %s stopped; 2 new listeners during the outage played (from %s); nodes and master (%s) back %s after quorum returned; a new mount served everywhere %s later",
		stopped[0].Name, stopped[1].Name, strings.Join(lateOn, ", "), now.Name, secs(time.Since(back)-reached), secs(reached))
	s.notDropped()
	s.finish(s.c.Hosts)
}

// 5. Every node is restarted in turn, the master last, as in an upgrade:
// radiod (and with it Icecast) and redirectord stop with SIGTERM and
// start again. Listeners of a node that is not restarting must not lose
// audio for long.
func TestRollingRestart(t *testing.T) {
	s := start(t, "5. rolling restart", 500*time.Millisecond)
	master := s.c.Master(20 * time.Second)
	order := append(s.others(master), master)
	s.injected()
	var steps []string
	for _, h := range order {
		on := s.nodesOfListeners()
		marks := make([]nscluster.Mark, len(s.ls))
		for i, l := range s.ls {
			l.ResetStall()
			marks[i] = l.Mark()
		}
		begin, conns := time.Now(), s.src.Connections()
		h.StopDaemons()
		h.StartDaemons()
		s.c.WaitNodesUp(len(s.c.Hosts), 60*time.Second)
		s.waitServed(s.mount.Name, s.c.Hosts, 60*time.Second)
		took := time.Since(begin)
		worst := time.Duration(0)
		for i, l := range s.ls {
			if on[i] == h.Name {
				continue
			}
			heard, err := nscluster.Analyze(s.ctx, l.Since(marks[i]))
			if err != nil {
				t.Fatal(err)
			}
			worst = max(worst, withoutAudio(l.MaxStall(), heard))
		}
		s.fig.Worst = max(s.fig.Worst, worst)
		role := ""
		if h == master {
			role = " (master)"
		}
		if n := s.src.Connections() - conns; n > 0 {
			role += fmt.Sprintf(" (the source reconnected %d times)", n)
		}
		steps = append(steps, fmt.Sprintf("%s%s %s, without audio %s", h.Name, role, secs(took), secs(worst)))
	}
	s.worstDone = true
	s.fig.Notes = fmt.Sprintf("restarts (until served again; worst time without audio of listeners of the nodes not restarting at the time): %s",
		strings.Join(steps, "; "))
	s.finish(s.c.Hosts)
}

// 6. A mount is created while a node is cut off: it reaches that node
// once the partition heals.
func TestMountDuringPartition(t *testing.T) {
	s := start(t, "6. mount created during a partition", 0)
	master := s.c.Master(20 * time.Second)
	cut := s.others(master)[0]
	s.injected()
	cut.Partition(true)
	// Wait until the cluster has noticed, then create the mount.
	testenv.Eventually(t, 30*time.Second, func() error {
		nodes, err := s.c.Client.ListNodes(s.ctx)
		if err != nil {
			return err
		}
		if len(nodes) != len(s.c.Hosts)-1 {
			return fmt.Errorf("%d nodes registered", len(nodes))
		}
		return nil
	})
	m := s.createMount("/new.mp3")
	s.c.StartSource(t, m)
	s.waitServed(m.Name, s.others(cut), 60*time.Second)
	s.holdFault()
	healed := time.Now()
	cut.Partition(false)
	reached := s.waitServed(m.Name, []*nscluster.Host{cut}, 60*time.Second)
	s.fig.Notes = fmt.Sprintf("%s cut off %s; /new.mp3 created meanwhile, served by %s %s after the heal",
		cut.Name, secs(healed.Sub(s.fault)), cut.Name, secs(reached))
	s.notDropped(cut)
	s.finish(s.c.Hosts)
}

// 7. The master's radiod is stopped as systemctl stop does (SIGTERM, on
// a package upgrade or a reboot) and started again; every redirectord
// keeps running. The master hands its role over before it stops: the
// front-ends move the sources, the relays follow, and no listener
// anywhere is dropped or hears the fallback (each node steps aside while
// its Icecast changes, see node/handover.go).
func TestPlannedMasterRestart(t *testing.T) {
	s := start(t, "7. planned restart of the master's radiod (SIGTERM, start again)", 500*time.Millisecond)
	s.noFallback = true
	master := s.c.Master(20 * time.Second)
	s.injected()
	master.StopRadiod()
	stopped := time.Since(s.fault)
	next := s.c.Master(30*time.Second, master)
	master.StartRadiod()
	s.c.WaitNodesUp(len(s.c.Hosts), 60*time.Second)
	s.waitServed(s.mount.Name, s.c.Hosts, 60*time.Second)
	s.fig.Notes = fmt.Sprintf("%s's radiod stopped in %s, %s master; %s serving again %s after the stop; source reconnected %d times",
		master.Name, secs(stopped), next.Name, master.Name, secs(time.Since(s.fault)-stopped), s.src.Connections()-1)
	s.notDropped()
	s.finish(s.c.Hosts)
}

// 8. The master is drained (radioctl drain), then undrained: it gives the
// master role up gracefully and keeps its listeners, no listener hears
// the fallback, and within a second no new listener is sent to it.
func TestDrainMaster(t *testing.T) {
	s := start(t, "8. drain the master, then undrain it", 500*time.Millisecond)
	s.noFallback = true
	master := s.c.Master(20 * time.Second)
	s.injected()
	if _, err := s.c.Client.DrainNode(s.ctx, master.Name, time.Now()); err != nil {
		t.Fatal(err)
	}
	next := s.c.Master(30*time.Second, master)
	elected := time.Since(s.fault)
	s.waitServed(s.mount.Name, s.c.Hosts, 60*time.Second)
	// The target is about new listeners one second after the drain: that
	// second is the bound under test, not a wait for readiness. A mount
	// that is live only on the drained node still goes there (serving
	// beats refusing), so this is a figure, held to its target in the
	// report; once every other node publishes the mount live again, no
	// new listener may go to the drained node at all.
	time.Sleep(time.Until(s.fault.Add(time.Second)))
	early := s.sentTo(master, 10)
	s.waitPublishedLive(s.mount.Name, s.others(master), 60*time.Second)
	if late := s.sentTo(master, 10); late > 0 {
		t.Errorf("%d new listeners were sent to the drained node %s after every other node served the mount", late, master.Name)
	}
	if _, err := s.c.Client.UndrainNode(s.ctx, master.Name); err != nil {
		t.Fatal(err)
	}
	s.fig.Notes = fmt.Sprintf("%s master %s after the drain; of 40 DNS answers and redirects 1 s after the drain, %d to %s (target 0); none once the others served the mount again; source reconnected %d times",
		next.Name, secs(elected), early, master.Name, s.src.Connections()-1)
	if early > 0 {
		t.Logf("TARGET MISSED: %d new listeners sent to the drained node 1 s after the drain", early)
		s.fig.TargetNote = "missed"
	}
	s.notDropped()
	s.finish(s.c.Hosts)
}

// 9. A node that is not the master restarts its radiod and with it its
// Icecast, while its redirectord keeps running: its front-end streams the
// mount from another node meanwhile, and its listeners stay connected.
func TestRestartRelayRadiod(t *testing.T) {
	s := start(t, "9. restart of a relay's radiod and Icecast (redirectord stays)", time.Second)
	master := s.c.Master(20 * time.Second)
	victim := s.busiest(s.others(master))
	on := s.listenersOn(victim)
	s.injected()
	victim.StopRadiod()
	victim.StartRadiod()
	s.c.WaitNodesUp(len(s.c.Hosts), 60*time.Second)
	s.waitServed(s.mount.Name, s.c.Hosts, 60*time.Second)
	s.fig.Notes = fmt.Sprintf("%d listeners on %s; its radiod and Icecast back and serving after %s", on, victim.Name, secs(time.Since(s.fault)))
	s.notDropped()
	s.finish(s.c.Hosts)
}

// sentTo counts, of n rounds of DNS answers and redirects from every
// front-end, those that send a new listener to h.
func (s *scenario) sentTo(h *nscluster.Host, n int) int {
	s.t.Helper()
	got, err := s.targets(s.c.Hosts, n)
	if err != nil {
		s.t.Fatal(err)
	}
	count := 0
	for _, target := range got {
		if strings.Contains(target, h.IP) {
			count++
		}
	}
	return count
}

// waitPublishedLive waits until every host in hosts publishes, in its
// status in etcd (what the load balancers read), a live mount.
func (s *scenario) waitPublishedLive(mount string, hosts []*nscluster.Host, timeout time.Duration) {
	s.t.Helper()
	testenv.Eventually(s.t, timeout, func() error {
		nodes, err := s.c.Client.ListNodes(s.ctx)
		if err != nil {
			return err
		}
		for _, h := range hosts {
			i := slices.IndexFunc(nodes, func(n *autoradio.NodeStatus) bool { return n.Name == h.Name })
			if i < 0 {
				return fmt.Errorf("%s is not registered", h.Name)
			}
			if m, ok := nodes[i].Mount(mount); !ok || !m.SourceConnected {
				return fmt.Errorf("%s does not publish %s live", h.Name, mount)
			}
		}
		return nil
	})
}

// busiest returns the host of hosts with the most listeners.
func (s *scenario) busiest(hosts []*nscluster.Host) *nscluster.Host {
	var most *nscluster.Host
	for _, h := range hosts {
		if most == nil || s.listenersOn(h) > s.listenersOn(most) {
			most = h
		}
	}
	return most
}
