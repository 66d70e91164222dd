package node

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"autoradio"
)

func TestSuccessorReady(t *testing.T) {
	n2 := &autoradio.MasterInfo{Name: "n2", IPs: []string{"127.0.0.2"}, IcecastPort: 8000}
	status := func(master, ok bool, mounts ...autoradio.MountStatus) []*autoradio.NodeStatus {
		return []*autoradio.NodeStatus{
			{Name: "n1", IsMaster: true, IcecastOK: true},
			{Name: "n2", IsMaster: master, IcecastOK: ok, Mounts: mounts},
		}
	}
	served := autoradio.MountStatus{Name: "/a.ogg", Configured: true, SourceConnected: true}
	configured := autoradio.MountStatus{Name: "/b.ogg", Configured: true}
	for _, tt := range []struct {
		name   string
		master *autoradio.MasterInfo
		nodes  []*autoradio.NodeStatus
		live   []string
		want   string // in the error; "" for ready
	}{
		{"no master", nil, status(true, true, served, configured), nil, "no other master"},
		{"still self", &autoradio.MasterInfo{Name: "n1"}, status(true, true, served, configured), nil, "no other master"},
		{"not reported as master", n2, status(false, true, served, configured), nil, "does not report"},
		{"icecast down", n2, status(true, false, served, configured), nil, "does not report"},
		{"no status", n2, status(true, true, served, configured)[:1], nil, "does not report"},
		{"mount not applied", n2, status(true, true, served), nil, "config of /b.ogg"},
		{"live source not there yet", n2, status(true, true, served, configured), []string{"/a.ogg", "/b.ogg"}, "no source for /b.ogg"},
		{"ready", n2, status(true, true, served, configured), []string{"/a.ogg"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := successorReady("n1", tt.master, tt.nodes, []string{"/a.ogg", "/b.ogg"}, tt.live)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("successorReady = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestStandReason(t *testing.T) {
	s := newState(nil)
	reason := func() string { r, _ := s.standDown(); return r }
	if r := reason(); r == "" {
		t.Fatal("stands before its drain state is known")
	}
	_, moved := s.standDown()
	s.setDrained(false)
	select {
	case <-moved:
	default:
		t.Error("learning the drain state did not wake the waiters")
	}
	if r := reason(); r != "" {
		t.Fatalf("undrained node does not stand: %s", r)
	}
	s.setDrained(true)
	if r := reason(); r != "drained" {
		t.Errorf("drained before the nodes are known: %q", r)
	}
	other := func(draining bool) []*autoradio.NodeStatus {
		return []*autoradio.NodeStatus{{Name: "n1"}, {Name: "n2", Draining: draining}}
	}
	s.setNodes("n1", other(false))
	if r := reason(); r != "drained" {
		t.Errorf("drained beside a serving node: %q", r)
	}
	s.setNodes("n1", other(true))
	if r := reason(); r != "" {
		t.Errorf("drained, every other node draining too: %q; want to stand as the last resort", r)
	}
	s.setStopping()
	if r := reason(); r != "stopping" {
		t.Errorf("stopping: %q", r)
	}
}

func TestStandingStopsAndRestarts(t *testing.T) {
	n := &Node{state: newState(nil), log: slog.New(slog.DiscardHandler)}
	n.state.setDrained(false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	starts, ends := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- n.standing(ctx, "test", func(ctx context.Context) error {
			starts <- struct{}{}
			<-ctx.Done()
			ends <- struct{}{}
			return nil
		})
	}()
	wait := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("no %s", what)
		}
	}
	wait(starts, "start")
	n.state.setDrained(true)
	wait(ends, "end when drained")
	n.state.setNodes("n1", nil) // nobody else: the last resort stands
	wait(starts, "start as the last resort")
	n.state.setStopping()
	wait(ends, "end when stopping")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("standing = %v", err)
	}

	// An error of fn ends standing.
	boom := errors.New("session lost")
	n = &Node{state: newState(nil), log: slog.New(slog.DiscardHandler)}
	n.state.setDrained(false)
	if err := n.standing(context.Background(), "test", func(context.Context) error { return boom }); err != boom {
		t.Errorf("standing = %v, want %v", err, boom)
	}
}
