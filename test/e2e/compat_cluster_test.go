package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"autoradio"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// compatCluster is the 2-node cluster the real clients talk to, only
// through its front-ends: n1 is the master, n2 relays from it.
type compatCluster struct{ *pair }

// startCompatCluster runs radiod, Icecast and redirectord on 127.0.0.61
// (n1, the master) and 127.0.0.62 (n2). Every source client of the suite
// comes from the same address and some retry a wrong password on their
// own, so the front-ends' lockout of guessing addresses is set out of
// reach: it would lock the other clients' right passwords out too.
func startCompatCluster(t *testing.T) *compatCluster {
	t.Helper()
	return &compatCluster{startPair(t, []string{"127.0.0.61", "127.0.0.62"}, "--source-max-failures=100000")}
}

// newMount creates a mount whose source username is user, or a generated
// one when user is empty.
func (cc *compatCluster) newMount(t *testing.T, ctx context.Context, name, user string) *autoradio.Mount {
	t.Helper()
	m := ct.NewMount(t, name)
	if user != "" {
		m.Username = user
	}
	if err := cc.c.CreateMount(ctx, m); err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
	// Until a front-end has seen the mount, it answers 404 to its sources:
	// radioctl create-mount --wait waits for the same.
	testenv.Eventually(t, 10*time.Second, func() error {
		for _, f := range []*ct.Redirectord{cc.f1, cc.f2} {
			if st := get(t, f.URL("/_status.json")); !strings.Contains(st, `"path": "`+name+`"`) {
				return fmt.Errorf("%s does not know %s yet", f.Name, name)
			}
		}
		return nil
	})
	return m
}

// hasSource waits until the master's Icecast has a live source for mount.
// (Radiod.WaitSource fails the test that started the node, not a subtest.)
func (cc *compatCluster) hasSource(t *testing.T, timeout time.Duration, mount string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		st, err := cc.r1.Status()
		if err != nil {
			return err
		}
		if ms, ok := st.Mount(mount); !ok || !ms.SourceConnected {
			return fmt.Errorf("the master has no source for %s", mount)
		}
		return nil
	})
}
