package coordination_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"autoradio"
	"autoradio/coordination"
	"autoradio/internal/etcdtest"
)

// contents renders a snapshot as "k=v k=v", sorted by key.
func contents(s coordination.Snapshot) string {
	var parts []string
	for _, kv := range s.Sorted() {
		parts = append(parts, fmt.Sprintf("%s=%s", kv.Key, kv.Value))
	}
	return strings.Join(parts, " ")
}

// watchInto runs WatchPrefix on prefix, sending each snapshot to the
// returned channel; before, if not nil, runs before each delivery.
func watchInto(t *testing.T, cli *clientv3.Client, prefix string, before func(), opts ...coordination.Option) <-chan coordination.Snapshot {
	snaps := make(chan coordination.Snapshot, 64)
	goRun(t, func(ctx context.Context) error {
		return coordination.WatchPrefix(ctx, cli, prefix, func(s coordination.Snapshot) {
			if before != nil {
				before()
			}
			snaps <- s
		}, opts...)
	})
	return snaps
}

// waitContents reads snapshots until one has the wanted contents.
func waitContents(t *testing.T, snaps <-chan coordination.Snapshot, want string) coordination.Snapshot {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-snaps:
			if contents(s) == want {
				return s
			}
		case <-deadline:
			t.Fatalf("no snapshot %q", want)
		}
	}
}

func put(t *testing.T, cli *clientv3.Client, kvs ...string) int64 {
	t.Helper()
	var ops []clientv3.Op
	for i := 0; i < len(kvs); i += 2 {
		ops = append(ops, clientv3.OpPut(kvs[i], kvs[i+1]))
	}
	resp, err := cli.Txn(testContext(t, 5*time.Second)).Then(ops...).Commit()
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

func del(t *testing.T, cli *clientv3.Client, key string) {
	t.Helper()
	if _, err := cli.Delete(testContext(t, 5*time.Second), key); err != nil {
		t.Fatal(err)
	}
}

func TestWatchPrefix(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := newClient(t, srv)
	_, opts := quick()
	rev := put(t, cli, "/p/a", "1", "/p/b", "2", "/other", "x")
	snaps := watchInto(t, cli, "/p/", nil, opts...)

	first := receive(t, snaps, 5*time.Second, "initial snapshot")
	if got := contents(first); got != "/p/a=1 /p/b=2" || first.Revision < rev {
		t.Fatalf("initial snapshot %q at %d, want /p/a=1 /p/b=2 at %d or later", got, first.Revision, rev)
	}
	saved := maps.Clone(first.KVs)

	rev = put(t, cli, "/p/a", "3")
	if s := receive(t, snaps, 5*time.Second, "put"); contents(s) != "/p/a=3 /p/b=2" || s.Revision != rev {
		t.Errorf("after put: %q at %d, want /p/a=3 /p/b=2 at %d", contents(s), s.Revision, rev)
	}
	del(t, cli, "/p/b")
	if s := receive(t, snaps, 5*time.Second, "delete"); contents(s) != "/p/a=3" {
		t.Errorf("after delete: %q", contents(s))
	}
	// One response, one delivery, even for several events.
	put(t, cli, "/p/c", "4", "/p/d", "5")
	if s := receive(t, snaps, 5*time.Second, "transaction"); contents(s) != "/p/a=3 /p/c=4 /p/d=5" {
		t.Errorf("after transaction: %q", contents(s))
	}
	if !maps.Equal(first.KVs, saved) || contents(first) != "/p/a=1 /p/b=2" {
		t.Errorf("the first snapshot changed after delivery: %q", contents(first))
	}
}

// TestWatchPrefixCompaction holds the first delivery while the history it
// would watch from is compacted away: the watcher must read again.
func TestWatchPrefixCompaction(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := newClient(t, srv)
	log, opts := quick()
	put(t, cli, "/p/a", "0")
	held, release := make(chan struct{}), make(chan struct{})
	first := true
	snaps := watchInto(t, cli, "/p/", func() {
		if first {
			first = false
			close(held)
			<-release
		}
	}, opts...)

	receive(t, held, 5*time.Second, "initial delivery")
	for i := 1; i <= 5; i++ {
		put(t, cli, "/p/a", fmt.Sprint(i), fmt.Sprintf("/p/n%d", i), "x")
	}
	del(t, cli, "/p/n3")
	rev := put(t, cli, "/p/a", "last")
	if _, err := cli.Compact(testContext(t, 5*time.Second), rev); err != nil {
		t.Fatal(err)
	}
	close(release)

	waitContents(t, snaps, "/p/a=0")
	waitContents(t, snaps, "/p/a=last /p/n1=x /p/n2=x /p/n4=x /p/n5=x")
	if !log.contains("compacted") {
		t.Error("the watcher did not report the compaction")
	}
	put(t, cli, "/p/z", "after")
	waitContents(t, snaps, "/p/a=last /p/n1=x /p/n2=x /p/n4=x /p/n5=x /p/z=after")
}

func TestWatchPrefixSurvivesEtcdRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts etcd")
	}
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := newClient(t, srv)
	_, opts := quick()
	put(t, cli, "/p/a", "1")
	snaps := watchInto(t, cli, "/p/", nil, opts...)
	waitContents(t, snaps, "/p/a=1")

	srv.Restart()
	restarted := time.Now()
	put(t, cli, "/p/b", "2")
	waitContents(t, snaps, "/p/a=1 /p/b=2")
	t.Logf("a key written after the restart delivered %v after it", time.Since(restarted).Round(time.Millisecond))
}

func TestWatchMounts(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := newClient(t, srv)
	log, opts := quick()
	ctx := testContext(t, 10*time.Second)
	ar := autoradio.NewClient(cli, slog.New(slog.DiscardHandler))
	for _, name := range []string{"/b.ogg", "/a.mp3"} {
		if err := ar.CreateMount(ctx, &autoradio.Mount{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	put(t, cli, autoradio.MountKey("/bad.ogg"), "{not json")

	type delivery struct {
		names string
		rev   int64
	}
	got := make(chan delivery, 16)
	goRun(t, func(ctx context.Context) error {
		return coordination.WatchMounts(ctx, cli, func(ms []*autoradio.Mount, rev int64) {
			var names []string
			for _, m := range ms {
				names = append(names, m.Name)
			}
			got <- delivery{strings.Join(names, " "), rev}
		}, opts...)
	})
	if d := receive(t, got, 5*time.Second, "mounts"); d.names != "/a.mp3 /b.ogg" || d.rev == 0 {
		t.Errorf("mounts %q at %d, want /a.mp3 /b.ogg", d.names, d.rev)
	}
	if err := ar.CreateMount(ctx, &autoradio.Mount{Name: "/c.ogg", Fallback: "/a.mp3"}); err != nil {
		t.Fatal(err)
	}
	if d := receive(t, got, 5*time.Second, "mounts"); d.names != "/a.mp3 /b.ogg /c.ogg" {
		t.Errorf("mounts %q, want /a.mp3 /b.ogg /c.ogg", d.names)
	}
	if n := log.count("skipping bad mount record"); n != 1 {
		t.Errorf("the bad record was logged %d times, want once", n)
	}
}

func TestWatchDrains(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := newClient(t, srv)
	log, opts := quick()
	put(t, cli, autoradio.DrainKey("n2"), `{"since":"2026-01-02T03:04:05Z"}`, autoradio.DrainKey("n1"), "",
		autoradio.DrainKey("bad"), "{not json")
	got := make(chan string, 16)
	goRun(t, func(ctx context.Context) error {
		return coordination.WatchDrains(ctx, cli, func(ds []*autoradio.Drain) {
			var names []string
			for _, d := range ds {
				names = append(names, d.Name)
			}
			got <- strings.Join(names, " ")
		}, opts...)
	})
	if names := receive(t, got, 5*time.Second, "drains"); names != "n1 n2" {
		t.Errorf("drained %q, want n1 n2", names)
	}
	del(t, cli, autoradio.DrainKey("n2"))
	if names := receive(t, got, 5*time.Second, "drains"); names != "n1" {
		t.Errorf("drained %q after undrain of n2, want n1", names)
	}
	if n := log.count("skipping bad drain record"); n != 1 {
		t.Errorf("the bad record was logged %d times, want once", n)
	}
}
