package httpfe

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/testenv"
)

// A source that comes before the master's Icecast knows its mount is held,
// not refused: the front-end tries again, on the master of the moment,
// and the source's first bytes, sent with its head, reach the master that
// accepts it.
func TestLiveHeldSource(t *testing.T) {
	env := startLive(t, Config{SourceHold: time.Minute}, "/known.ogg")
	ctx := testenv.Context(t, 90*time.Second)
	next := startIcecast(t, 50, "/held.ogg")
	env.cluster.mu.Lock()
	env.cluster.mounts["/held.ogg"] = &autoradio.Mount{Name: "/held.ogg", Username: srcUser, Password: srcPass}
	env.cluster.mu.Unlock()
	// The new master is elected only once the source has been refused by
	// the old one and is being held.
	switched := env.electWhenHeld(ctx, t, 1, next)
	env.legacySource(ctx, t, "/held.ogg")
	<-switched
	next.waitSource(ctx, t, "/held.ogg")
	if v := metricValue(t, env.reg, "autoradio_source_connections_total", "result", "accepted"); v != 1 {
		t.Errorf("accepted sources = %v, want 1", v)
	}
	if v := metricValue(t, env.reg, "autoradio_source_auth_failures_total"); v != 0 {
		t.Errorf("auth failures counted: %v, want 0", v)
	}
}

// A PUT source waiting for 100 Continue is held the same way, and gets
// Icecast's 100 and 200 once the master knows the mount.
func TestLiveHeldPut(t *testing.T) {
	env := startLive(t, Config{SourceHold: time.Minute}, "/known.ogg")
	ctx := testenv.Context(t, 90*time.Second)
	next := startIcecast(t, 50, "/put.ogg")
	env.cluster.mu.Lock()
	env.cluster.mounts["/put.ogg"] = &autoradio.Mount{Name: "/put.ogg", Username: srcUser, Password: srcPass}
	env.cluster.mu.Unlock()
	switched := env.electWhenHeld(ctx, t, 2, next)
	if code, _ := env.sourceFrom(ctx, t, net.ParseIP("127.0.0.1"), "/put.ogg", basicAuth(srcUser, srcPass)); code != http.StatusOK {
		t.Fatalf("held PUT: %d, want 200", code)
	}
	<-switched
}

// electWhenHeld makes ic's node the master once sources were tried again
// tries times; the channel is closed when done (or ctx ended).
func (env *liveEnv) electWhenHeld(ctx context.Context, t *testing.T, tries float64, ic *icecast) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for metricValue(t, env.reg, "autoradio_source_hold_retries_total") < tries {
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		env.cluster.setMaster(&autoradio.MasterInfo{Name: "n2", IPs: []string{"127.0.0.1"}, IcecastPort: ic.port})
	}()
	t.Cleanup(func() { <-done })
	return done
}
