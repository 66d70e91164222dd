package autoradio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"autoradio"
	"autoradio/internal/etcdtest"
	"autoradio/internal/testenv"
)

// newClient starts an etcd and returns a Client of it whose warnings go to
// the returned buffer, and a context bounding the test.
func newClient(t *testing.T) (*autoradio.Client, *bytes.Buffer, context.Context) {
	t.Helper()
	srv := etcdtest.Start(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return autoradio.NewClient(srv.Client(), log), &logs, ctx
}

func mustCreate(t *testing.T, ctx context.Context, c *autoradio.Client, ms ...*autoradio.Mount) {
	t.Helper()
	for _, m := range ms {
		if err := c.CreateMount(ctx, m); err != nil {
			t.Fatalf("CreateMount(%s): %v", m.Name, err)
		}
	}
}

func mountNames(ms []*autoradio.Mount) []string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return names
}

func transcoding(source string) *autoradio.Transcoding {
	t := &autoradio.Transcoding{SourceName: source, Codec: autoradio.CodecOpus}
	t.ApplyDefaults()
	return t
}

func wantErr(t *testing.T, err, target error, text string) {
	t.Helper()
	if !errors.Is(err, target) || !strings.Contains(err.Error(), text) {
		t.Fatalf("error %v, want %v with %q", err, target, text)
	}
}

func TestClientCRUD(t *testing.T) {
	t.Parallel()
	c, _, ctx := newClient(t)
	live := &autoradio.Mount{Name: "/live.ogg", Username: "u", Password: "p"}
	mustCreate(t, ctx, c, live, &autoradio.Mount{Name: "/a.mp3", RelayURL: "http://up.example.org/a.mp3"})

	got, err := c.GetMount(ctx, "/live.ogg")
	if err != nil || !reflect.DeepEqual(got, live) {
		t.Fatalf("GetMount = %+v, %v; want %+v", got, err, live)
	}
	all, err := c.ListMounts(ctx)
	if err != nil || !reflect.DeepEqual(mountNames(all), []string{"/a.mp3", "/live.ogg"}) {
		t.Fatalf("ListMounts = %q, %v", mountNames(all), err)
	}
	wantErr(t, c.CreateMount(ctx, &autoradio.Mount{Name: "/live.ogg"}), autoradio.ErrMountExists, "/live.ogg: mount already exists")

	edited, err := c.EditMount(ctx, "/live.ogg", func(m *autoradio.Mount) error {
		m.Fallback = "/a.mp3"
		return nil
	})
	if err != nil || edited.Fallback != "/a.mp3" {
		t.Fatalf("EditMount = %+v, %v", edited, err)
	}
	if got, _ := c.GetMount(ctx, "/live.ogg"); got.Fallback != "/a.mp3" || got.Password != "p" {
		t.Errorf("after edit: %+v", got)
	}

	if err := c.DeleteMount(ctx, "/live.ogg"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetMount(ctx, "/live.ogg")
	wantErr(t, err, autoradio.ErrMountNotFound, "/live.ogg")
	wantErr(t, c.DeleteMount(ctx, "/live.ogg"), autoradio.ErrMountNotFound, "/live.ogg")
	_, err = c.EditMount(ctx, "/live.ogg", func(*autoradio.Mount) error { return nil })
	wantErr(t, err, autoradio.ErrMountNotFound, "/live.ogg")
	if _, err := c.GetMount(ctx, "/bad path"); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("GetMount of an invalid path: %v", err)
	}
	_, err = c.EditMount(ctx, "live.ogg", func(*autoradio.Mount) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "must start with /") {
		t.Errorf("EditMount of an invalid path: %v, want the validation error", err)
	}
}

func TestClientConcurrentCreateHasOneWinner(t *testing.T) {
	t.Parallel()
	c, _, ctx := newClient(t)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = c.CreateMount(ctx, &autoradio.Mount{Name: "/race.ogg", Username: "u", Password: fmt.Sprint(i)})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("creates %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, autoradio.ErrMountExists):
			t.Errorf("create %d: %v, want ErrMountExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no create succeeded")
	}
	if m, err := c.GetMount(ctx, "/race.ogg"); err != nil || m.Password != fmt.Sprint(winner) {
		t.Errorf("stored %+v, %v; want the winner's (%d) record", m, err, winner)
	}
}

func TestClientReferencesMustExist(t *testing.T) {
	t.Parallel()
	c, _, ctx := newClient(t)
	err := c.CreateMount(ctx, &autoradio.Mount{Name: "/a", Fallback: "/missing"})
	wantErr(t, err, autoradio.ErrMountNotFound, "fallback of /a: /missing")
	err = c.CreateMount(ctx, &autoradio.Mount{Name: "/a", Transcoding: transcoding("/missing")})
	wantErr(t, err, autoradio.ErrMountNotFound, "transcoding source of /a: /missing")
	if ms, _ := c.ListMounts(ctx); len(ms) != 0 {
		t.Fatalf("failed creates stored %q", mountNames(ms))
	}

	mustCreate(t, ctx, c,
		&autoradio.Mount{Name: "/src.ogg"},
		&autoradio.Mount{Name: "/fb.ogg"},
		&autoradio.Mount{Name: "/t.opus", Fallback: "/fb.ogg", Transcoding: transcoding("/src.ogg")},
	)
	_, err = c.EditMount(ctx, "/t.opus", func(m *autoradio.Mount) error {
		m.Fallback = "/gone"
		return nil
	})
	wantErr(t, err, autoradio.ErrMountNotFound, "fallback of /t.opus: /gone")
	_, err = c.EditMount(ctx, "/t.opus", func(m *autoradio.Mount) error {
		m.Name = "/other"
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "cannot be changed") {
		t.Errorf("renaming in EditMount: %v", err)
	}
	sentinel := errors.New("refused by fn")
	if _, err := c.EditMount(ctx, "/t.opus", func(*autoradio.Mount) error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("EditMount did not return fn's error: %v", err)
	}
}

func TestClientDeleteRefusesMountInUse(t *testing.T) {
	t.Parallel()
	c, _, ctx := newClient(t)
	mustCreate(t, ctx, c,
		&autoradio.Mount{Name: "/src.ogg"},
		&autoradio.Mount{Name: "/fb.ogg"},
		&autoradio.Mount{Name: "/main.ogg", Fallback: "/fb.ogg"},
		&autoradio.Mount{Name: "/t.opus", Transcoding: transcoding("/src.ogg")},
	)
	wantErr(t, c.DeleteMount(ctx, "/fb.ogg"), autoradio.ErrMountInUse, "/fb.ogg is the fallback of /main.ogg")
	wantErr(t, c.DeleteMount(ctx, "/src.ogg"), autoradio.ErrMountInUse, "/src.ogg is the transcoding source of /t.opus")
	if err := c.DeleteMount(ctx, "/t.opus"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteMount(ctx, "/src.ogg"); err != nil {
		t.Fatalf("deleting a source no longer in use: %v", err)
	}
}

func TestClientRestoreMounts(t *testing.T) {
	t.Parallel()
	c, _, ctx := newClient(t)
	mustCreate(t, ctx, c,
		&autoradio.Mount{Name: "/kept.ogg", Username: "k", Password: "k"},
		&autoradio.Mount{Name: "/updated.ogg", Username: "old", Password: "old"},
	)
	backup := []*autoradio.Mount{
		{Name: "/updated.ogg", Username: "new", Password: "new", Fallback: "/kept.ogg"},
		{Name: "/t.opus", Transcoding: transcoding("/new.ogg")}, // refers forward within the backup
		{Name: "/new.ogg", Username: "n", Password: "n"},
	}
	if err := c.RestoreMounts(ctx, backup); err != nil {
		t.Fatal(err)
	}
	all, err := c.ListMounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mountNames(all), []string{"/kept.ogg", "/new.ogg", "/t.opus", "/updated.ogg"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after restore: %q, want %q", got, want)
	}
	if all[3].Password != "new" || all[3].Fallback != "/kept.ogg" {
		t.Errorf("existing mount not updated: %+v", all[3])
	}

	for name, bad := range map[string][]*autoradio.Mount{
		"dangling reference": {{Name: "/x.ogg"}, {Name: "/y.ogg", Fallback: "/nowhere"}},
		"duplicate":          {{Name: "/x.ogg"}, {Name: "/x.ogg"}},
		"invalid mount":      {{Name: "/x.ogg"}, {Name: "/_y"}},
	} {
		if err := c.RestoreMounts(ctx, bad); err == nil {
			t.Errorf("%s: restore succeeded", name)
		}
	}
	if after, _ := c.ListMounts(ctx); len(after) != len(all) {
		t.Errorf("failed restores wrote mounts: %q", mountNames(after))
	}
}

func TestClientRestoreManyMounts(t *testing.T) {
	t.Parallel()
	c, _, ctx := newClient(t)
	var ms []*autoradio.Mount
	for i := range 250 { // more than one transaction's worth
		ms = append(ms, &autoradio.Mount{Name: fmt.Sprintf("/m%03d.ogg", i)})
	}
	if err := c.RestoreMounts(ctx, ms); err != nil {
		t.Fatal(err)
	}
	if all, err := c.ListMounts(ctx); err != nil || len(all) != 250 {
		t.Fatalf("ListMounts: %d mounts, %v", len(all), err)
	}
}

// A restore that etcd refuses half-way leaves the store as it was: here
// the second transaction is larger than the server accepts.
func TestClientRestoreIsAllOrNothing(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t, etcdtest.MaxRequestBytes(16<<10))
	ctx := testenv.Context(t, 30*time.Second)
	c := autoradio.NewClient(srv.Client(), nil)
	mustCreate(t, ctx, c, &autoradio.Mount{Name: "/m000.ogg", Username: "before", Password: "before"})
	var ms []*autoradio.Mount
	for i := range 100 { // the first transaction: small records
		ms = append(ms, &autoradio.Mount{Name: fmt.Sprintf("/m%03d.ogg", i), Username: "u", Password: "p"})
	}
	for i := range 40 { // the second: about 28 KiB
		ms = append(ms, &autoradio.Mount{Name: fmt.Sprintf("/big/%s%03d.ogg", strings.Repeat("x", 180), i),
			Username: strings.Repeat("u", autoradio.MaxUsernameLen), Password: strings.Repeat("p", autoradio.MaxPasswordLen)})
	}
	err := c.RestoreMounts(ctx, ms)
	if err == nil || !strings.Contains(err.Error(), "nothing written") {
		t.Fatalf("restore: %v, want an error saying nothing was written", err)
	}
	t.Logf("restore: %v", err)
	all, err := c.ListMounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Name != "/m000.ogg" || all[0].Password != "before" {
		t.Fatalf("after the failed restore: %q (first %+v), want /m000.ogg as it was", mountNames(all), all[0])
	}
}

// A mount that cannot be written is refused before anything is: a
// password over the limit on the last of 150 mounts.
func TestClientRestoreChecksEverythingFirst(t *testing.T) {
	t.Parallel()
	c, _, ctx := newClient(t)
	var ms []*autoradio.Mount
	for i := range 150 {
		ms = append(ms, &autoradio.Mount{Name: fmt.Sprintf("/m%03d.ogg", i), Username: "u", Password: "p"})
	}
	ms[149].Password = strings.Repeat("p", 3<<20)
	err := c.RestoreMounts(ctx, ms)
	if err == nil || !strings.Contains(err.Error(), "/m149.ogg") || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("restore: %v, want the long password of /m149.ogg refused", err)
	}
	if strings.Contains(err.Error(), "ppp") {
		t.Errorf("the error shows the password: %.100s", err)
	}
	if all, err := c.ListMounts(ctx); err != nil || len(all) != 0 {
		t.Fatalf("after the refused restore: %d mounts, %v; want none", len(all), err)
	}
}

func TestClientSkipsCorruptRecords(t *testing.T) {
	t.Parallel()
	c, logs, ctx := newClient(t)
	mustCreate(t, ctx, c, &autoradio.Mount{Name: "/a.ogg"}, &autoradio.Mount{Name: "/c.ogg"})
	for key, value := range map[string]string{
		autoradio.MountKey("/b.ogg"):    `{"name": "/b.ogg", `,
		autoradio.MountKey("/d.ogg"):    `{"name": "/other.ogg"}`,
		autoradio.MountKey("/e.m3u"):    `{"name": "/e.m3u"}`,
		autoradio.MountsPrefix + "/":    `{}`,
		autoradio.NodeKey("broken"):     `[]`,
		autoradio.NodeKey("n1"):         `{"name":"n1","ips":["127.0.0.11"],"icecast_port":8000,"icecast_ok":true,"listeners":4}`,
		autoradio.NodeKey("noaddr"):     `{"name":"noaddr","icecast_port":8000}`,
		autoradio.MasterElection + "/x": `{"name":"n1","ips":["127.0.0.11"],"icecast_port":8000}`,
	} {
		if _, err := c.Etcd().Put(ctx, key, value); err != nil {
			t.Fatal(err)
		}
	}
	all, err := c.ListMounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := mountNames(all); !reflect.DeepEqual(got, []string{"/a.ogg", "/c.ogg"}) {
		t.Errorf("ListMounts = %q, want the two good mounts", got)
	}
	if n := strings.Count(logs.String(), "skipping bad mount record"); n != 4 {
		t.Errorf("%d warnings about bad mount records, want 4:\n%s", n, logs)
	}
	if _, err := c.GetMount(ctx, "/b.ogg"); err == nil || errors.Is(err, autoradio.ErrMountNotFound) {
		t.Errorf("GetMount of a corrupt record: %v, want a parse error", err)
	}
	// A corrupt record must not block writes to the others.
	mustCreate(t, ctx, c, &autoradio.Mount{Name: "/f.ogg", Fallback: "/a.ogg"})
	if err := c.DeleteMount(ctx, "/c.ogg"); err != nil {
		t.Errorf("DeleteMount beside corrupt records: %v", err)
	}

	nodes, err := c.ListNodes(ctx)
	if err != nil || len(nodes) != 1 || nodes[0].Name != "n1" || nodes[0].Listeners != 4 {
		t.Errorf("ListNodes = %+v, %v; want only n1", nodes, err)
	}
	master, err := c.Master(ctx)
	if err != nil || master.Name != "n1" || master.IcecastAddr() != "127.0.0.11:8000" {
		t.Errorf("Master = %+v, %v", master, err)
	}
}

func TestClientMasterWithElection(t *testing.T) {
	t.Parallel()
	c, _, ctx := newClient(t)
	if _, err := c.Master(ctx); !errors.Is(err, autoradio.ErrNoMaster) {
		t.Fatalf("Master with no election: %v, want ErrNoMaster", err)
	}
	// Two candidates: the first to have campaigned is the leader.
	for i, name := range []string{"first", "second"} {
		lease, err := c.Etcd().Grant(ctx, 60)
		if err != nil {
			t.Fatal(err)
		}
		v := fmt.Sprintf(`{"name":%q,"ips":["127.0.0.%d"],"icecast_port":8000}`, name, 11+i)
		key := fmt.Sprintf("%s/%x", autoradio.MasterElection, lease.ID)
		if _, err := c.Etcd().Put(ctx, key, v, clientv3.WithLease(lease.ID)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := c.Master(ctx)
	if err != nil || m.Name != "first" {
		t.Fatalf("Master = %+v, %v; want first", m, err)
	}
}
