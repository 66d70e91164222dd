// Package nscluster runs a real autoradio cluster for fault-injection
// tests: each host is a network namespace on a test bridge, with its own
// address in a private subnet that exists only inside those namespaces,
// running an etcd member, radiod (and its Icecast) and redirectord. A
// fourth namespace holds the clients: sources and listeners that find the
// cluster through its own DNS, as real users do.
//
// Nothing is routed outside the test subnet: the namespaces have no
// default route, the root namespace has no address on the bridge, and the
// test process reaches the namespaces only through sockets it opens inside
// the clients namespace (see Namespace.DialContext). Processes run with
// `ip netns exec`, each in its own process group, and are killed by PID;
// the namespaces and the bridge are removed when the test ends, and left
// overs of a crashed run are removed before a new one starts.
package nscluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Addressing of the test network. 10.213.0.0/24 is private and lives only
// inside the namespaces this package creates.
const (
	Subnet    = "10.213.0.0/24"
	prefixLen = "24"
	bridge    = "ar-br0"
	// ClientsNS is the namespace of sources and listeners.
	ClientsNS = "ar-cl"
	clientsIP = "10.213.0.100"
)

// HostNS and HostIP name host i (0-based) of the cluster.
func HostNS(i int) string { return fmt.Sprintf("ar-h%d", i+1) }

// HostIP is the address of host i.
func HostIP(i int) string { return fmt.Sprintf("10.213.0.%d", 11+i) }

// hostVeth is the root side of host i's link; the namespace side is eth0.
func hostVeth(ns string) string { return ns + "-br" }

// Net is the test network: a bridge and one namespace per host, plus the
// clients namespace.
type Net struct {
	// Hosts are the namespaces of the hosts, in order.
	Hosts []string
	// Logf reports what is set up and torn down.
	Logf func(format string, args ...any)
}

// allNamespaces lists every namespace the package may have created, so
// that a crashed run of any size is cleaned up.
func allNamespaces() []string {
	ns := []string{ClientsNS}
	for i := range 9 {
		ns = append(ns, HostNS(i))
	}
	return ns
}

// NewNet removes what a previous run left and creates the network for n
// hosts. On error, whatever was created is removed again.
func NewNet(n int, logf func(string, ...any)) (*Net, error) {
	net := &Net{Logf: logf}
	if err := checkSubnetFree(); err != nil {
		return nil, err
	}
	RemoveStale(logf)
	if err := net.create(n); err != nil {
		net.Close()
		return nil, err
	}
	if err := net.checkRoutes(); err != nil {
		net.Close()
		return nil, err
	}
	return net, nil
}

func (n *Net) create(count int) error {
	if err := ipCmd("link", "add", bridge, "type", "bridge"); err != nil {
		return err
	}
	if err := ipCmd("link", "set", bridge, "up"); err != nil {
		return err
	}
	for i := range count {
		n.Hosts = append(n.Hosts, HostNS(i))
		if err := addNamespace(HostNS(i), HostIP(i)); err != nil {
			return err
		}
	}
	return addNamespace(ClientsNS, clientsIP)
}

// addNamespace creates namespace ns with eth0 on the bridge, address ip.
func addNamespace(ns, ip string) error {
	veth := hostVeth(ns)
	steps := [][]string{
		{"netns", "add", ns},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", veth, "master", bridge},
		{"link", "set", veth, "up"},
		{"-n", ns, "addr", "add", ip + "/" + prefixLen, "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			return err
		}
	}
	return nil
}

// checkSubnetFree refuses to run where the root namespace already routes
// the test subnet: our addresses would then be someone else's.
func checkSubnetFree() error {
	out, err := ipOut("-4", "route", "show", "to", "match", HostIP(0))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line != "" && !strings.HasPrefix(line, "default") && !strings.Contains(line, "dev "+bridge) {
			return fmt.Errorf("nscluster: the root namespace already routes %s (%s): refusing to use it", Subnet, line)
		}
	}
	return nil
}

// checkRoutes makes sure that, from every namespace, every other address
// of the test is on-link through eth0 and that nothing else is routed:
// no traffic of the test can leave the machine.
func (n *Net) checkRoutes() error {
	all := append(append([]string{}, n.Hosts...), ClientsNS)
	for _, ns := range all {
		routes, err := ipOut("-n", ns, "-4", "route", "show")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(strings.TrimSpace(routes), "\n") {
			if !strings.HasPrefix(line, Subnet+" dev eth0") {
				return fmt.Errorf("nscluster: unexpected route in %s: %q", ns, line)
			}
		}
		for i := range n.Hosts {
			got, err := ipOut("-n", ns, "route", "get", HostIP(i))
			if err != nil {
				return err
			}
			if strings.Contains(got, " via ") || !(strings.Contains(got, "dev eth0") || strings.Contains(got, "dev lo")) {
				return fmt.Errorf("nscluster: %s reaches %s off-link: %q", ns, HostIP(i), got)
			}
		}
	}
	return nil
}

// Close kills every process left in the namespaces and removes them and
// the bridge.
func (n *Net) Close() {
	RemoveStale(n.Logf)
}

// RemoveStale removes the namespaces and bridge of this package, killing
// the processes inside first, whoever created them.
func RemoveStale(logf func(string, ...any)) {
	for _, ns := range allNamespaces() {
		if _, err := os.Stat(filepath.Join("/run/netns", ns)); err != nil {
			continue
		}
		if pids := KillNamespace(ns); len(pids) > 0 && logf != nil {
			logf("nscluster: killed %d processes left in %s", len(pids), ns)
		}
		ipCmd("netns", "del", ns)
		os.RemoveAll(filepath.Join("/etc/netns", ns))
	}
	// A deleted namespace's veth pairs go away asynchronously: remove the
	// root sides now so that a new run can create them again.
	for _, ns := range allNamespaces() {
		if ipCmd("link", "show", hostVeth(ns)) == nil {
			ipCmd("link", "del", hostVeth(ns))
		}
	}
	if ipCmd("link", "show", bridge) == nil {
		ipCmd("link", "del", bridge)
	}
}

// KillNamespace sends SIGKILL to every process in namespace ns, by PID,
// until none is left (at most a few seconds), and returns those it killed.
func KillNamespace(ns string) []int {
	var killed []int
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		pids := NamespacePIDs(ns)
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		killed = append(killed, pids...)
		time.Sleep(50 * time.Millisecond) // the kernel reaps them; poll again
	}
	return killed
}

// NamespacePIDs lists the processes running in namespace ns.
func NamespacePIDs(ns string) []int {
	out, err := ipOut("netns", "pids", ns)
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// SetLink brings host ns's link up or down: down cuts the host off from
// every other host and from the clients.
func SetLink(ns string, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return ipCmd("-n", ns, "link", "set", "eth0", state)
}

// Command prepares name to run inside namespace ns. `ip netns exec` execs
// the program itself, so the command's PID is the program's.
func Command(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

func ipCmd(args ...string) error {
	_, err := ipOut(args...)
	return err
}

func ipOut(args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("ip", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("nscluster: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func killPID(pid int) { syscall.Kill(pid, syscall.SIGKILL) }
