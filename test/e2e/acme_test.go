package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"autoradio"
	"autoradio/coordination"
	"autoradio/fe/tlscert"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/etcdtest"
	"autoradio/internal/pebbletest"
	"autoradio/internal/testenv"
)

// acmeValidity is the lifetime of Pebble's certificates here: short, so
// that renewals (at two thirds of it) happen within the test.
const acmeValidity = 30 * time.Second

// TestACMECluster has a 2-node cluster obtain its certificate from a real
// ACME server (Pebble), which validates DNS-01 by asking n1's DNS; both
// nodes serve it, then each renewal, without a restart; the ordering
// node killed while its challenge is pending leaves the other to serve
// the certificate and complete the next order.
func TestACMECluster(t *testing.T) {
	testenv.RequireBinaries(t, "openssl")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ips := []string{"127.0.0.94", "127.0.0.95"}
	dnsPort, httpsPort, monitorPort := ct.FreePort(t, ips...), ct.FreePort(t, ips...), ct.FreePort(t, ips...)
	pebble := pebbletest.New(t, "127.0.0.96")
	p := startPairWith(t, ips, func(ip string) []string {
		return []string{"--https-addr", net.JoinHostPort(ip, strconv.Itoa(httpsPort)),
			"--dns-addr", net.JoinHostPort(ip, strconv.Itoa(dnsPort)),
			"--monitor-addr", net.JoinHostPort(ip, strconv.Itoa(monitorPort)),
			"--acme", pebble.Directory, "--acme-ca", pebble.CAFile, "--acme-email", "ops@radio.test"}
	})
	// Pebble asks one DNS server, the one of the node that does not
	// order: the orderer is killed below, and the other must still be
	// able to complete an order.
	orderer, survivor := acmeOrderer(ctx, t, p)
	pebble.Start(net.JoinHostPort(survivor.IP, strconv.Itoa(dnsPort)), acmeValidity)
	roots, err := pebble.Roots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rootFile := filepath.Join(t.TempDir(), "pebble-root.pem")
	if err := os.WriteFile(rootFile, roots, 0o600); err != nil {
		t.Fatal(err)
	}
	// served waits until every front-end in fs serves a certificate
	// issued by Pebble, other than old (by serial), and returns n's.
	served := func(old string, fs ...*ct.Redirectord) string {
		t.Helper()
		serial := ""
		for _, f := range fs {
			testenv.Eventually(t, 60*time.Second, func() error {
				leaf, err := sClientLeaf(ctx, f.IP, httpsPort, f.Name+".radio.test", rootFile)
				if err != nil {
					return err
				}
				if s := leaf.SerialNumber.String(); s == old || serial != "" && s != serial {
					return fmt.Errorf("%s serves serial %s, want a new one (old %s, others %s)", f.Name, s, old, serial)
				}
				serial = leaf.SerialNumber.String()
				return nil
			})
		}
		return serial
	}
	first := served("", p.f1, p.f2)
	t.Logf("both nodes serve certificate %s", first)
	out, err := exec.CommandContext(ctx, testenv.Binary(t, "radioctl"), "--etcd-urls", p.etcd.URL(), "--etcd-ca", "", "status").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "certificate: radio.test,stream.radio.test,n1.radio.test,n2.radio.test, issued by Pebble") {
		t.Errorf("radioctl status (%v) does not show the certificate:\n%s", err, out)
	}
	var info tlscert.Info
	if err := json.Unmarshal([]byte(get(t, "http://"+net.JoinHostPort(p.f1.IP, strconv.Itoa(monitorPort))+"/debug/certificate")), &info); err != nil {
		t.Fatal(err)
	}
	if info.Source != "acme" || len(info.Names) != 4 || !strings.HasPrefix(info.Issuer, "Pebble") || info.NotAfter.IsZero() {
		t.Errorf("/debug/certificate: %+v", info)
	}
	if v := metricLine(get(t, "http://"+net.JoinHostPort(p.f1.IP, strconv.Itoa(monitorPort))+"/metrics"),
		"autoradio_tls_certificate_expiry_timestamp_seconds"); v != float64(info.NotAfter.Unix()) {
		t.Errorf("expiry metric %v, want %d", v, info.NotAfter.Unix())
	}
	renewed := served(first, p.f1, p.f2)
	t.Logf("both nodes serve the renewed certificate %s", renewed)

	// Kill the orderer as soon as its next challenge is pending.
	if o, _ := acmeOrderer(ctx, t, p); o != orderer {
		t.Fatalf("the orderer changed from %s to %s", orderer.Name, o.Name)
	}
	waitPending(ctx, t, p.c.Etcd())
	orderer.Proc.Kill()
	t.Logf("killed %s with a challenge pending", orderer.Name)
	if _, err := sClientLeaf(ctx, survivor.IP, httpsPort, "radio.test", rootFile); err != nil {
		t.Errorf("%s right after the orderer died: %v", survivor.Name, err)
	}
	last := served(renewed, survivor)
	t.Logf("%s took over and serves %s", survivor.Name, last)
	testenv.Eventually(t, 20*time.Second, func() error {
		resp, err := p.c.Etcd().Get(ctx, autoradio.ACMEChallengePrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err == nil && resp.Count != 0 {
			err = fmt.Errorf("%d challenge records left", resp.Count)
		}
		return err
	})
}

// acmeOrderer waits for a leader of the ACME election and returns its
// front-end and the other.
func acmeOrderer(ctx context.Context, t *testing.T, p *pair) (orderer, other *ct.Redirectord) {
	t.Helper()
	var name string
	testenv.Eventually(t, 15*time.Second, func() error {
		leader, err := coordination.Leader(ctx, p.c.Etcd(), autoradio.ACMEElection)
		if err == nil {
			err = json.Unmarshal(leader, &name)
		}
		return err
	})
	if name == p.f2.Name {
		return p.f2, p.f1
	}
	return p.f1, p.f2
}

// waitPending waits until a challenge record is in etcd.
func waitPending(ctx context.Context, t *testing.T, c *clientv3.Client) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	w := c.Watch(wctx, autoradio.ACMEChallengePrefix, clientv3.WithPrefix())
	for wr := range w {
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypePut {
				return
			}
		}
	}
	t.Fatal("no challenge pending within 60s")
}

// metricLine returns the value of an unlabelled metric in a /metrics
// page, 0 if absent.
func metricLine(page, name string) float64 {
	for _, line := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// TestACMEWildcard has one front-end obtain a certificate for the domain
// and a wildcard: two DNS-01 challenges with the same name, whose TXT
// values the DNS serves side by side.
func TestACMEWildcard(t *testing.T) {
	testenv.RequireBinaries(t, "openssl")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ip := "127.0.0.97"
	etcd := etcdtest.Start(t)
	httpPort, dnsPort, httpsPort := ct.FreePort(t, ip), ct.FreePort(t, ip), ct.FreePort(t, ip)
	pebble := pebbletest.New(t, "127.0.0.98")
	pebble.Start(net.JoinHostPort(ip, strconv.Itoa(dnsPort)), time.Hour)
	f := ct.StartRedirectord(t, etcd.URL(), "w1", ip, 1, httpPort, dnsPort,
		"--https-addr", net.JoinHostPort(ip, strconv.Itoa(httpsPort)),
		"--acme", pebble.Directory, "--acme-ca", pebble.CAFile, "--acme-names", "radio.test,*.radio.test")
	roots, err := pebble.Roots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rootFile := filepath.Join(t.TempDir(), "pebble-root.pem")
	if err := os.WriteFile(rootFile, roots, 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		leaf, err := sClientLeaf(ctx, f.IP, httpsPort, "any-node.radio.test", rootFile)
		if err == nil && !slices.Equal(leaf.DNSNames, []string{"radio.test", "*.radio.test"}) {
			err = fmt.Errorf("names %v", leaf.DNSNames)
		}
		return err
	})
}
