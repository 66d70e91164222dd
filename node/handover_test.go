package node

import (
	"context"
	"testing"
	"time"

	"autoradio"
)

func TestHandoverConditions(t *testing.T) {
	live := []autoradio.MountStatus{{Name: "/a.mp3", SourceConnected: true}, {Name: "/b.mp3", SourceConnected: true}}
	nodes := []*autoradio.NodeStatus{
		{Name: "old", IcecastOK: true, Mounts: live},
		{Name: "new", IcecastOK: true, IsMaster: true, Mounts: live[:1]},
		{Name: "relay", IcecastOK: true, StepAside: true, Mounts: live, RelaysFrom: []string{"192.0.2.1:8000"}},
	}
	cases := []struct {
		what string
		got  bool
		want bool
	}{
		{"the new master serves /a.mp3", serves(nodes, "new", []string{"/a.mp3"}), true},
		{"the new master serves /a.mp3 and /b.mp3", serves(nodes, "new", []string{"/a.mp3", "/b.mp3"}), false},
		{"a node that is not master serves", serves(nodes, "old", []string{"/a.mp3"}), false},
		{"an unknown node serves", serves(nodes, "gone", nil), false},
		{"someone relays from the old master", relaysFrom(nodes, "old", "192.0.2.1:8000"), true},
		{"a node counts its own relays", relaysFrom(nodes, "relay", "192.0.2.1:8000"), false},
		{"someone relays from another address", relaysFrom(nodes, "old", "192.0.2.2:8000"), false},
		{"others live, seen from the relay", othersLive(nodes, "relay"), true},
		{"others live, seen from old (the relay steps aside)", othersLive(nodes[1:], "new"), false},
		{"old is alive", alive(nodes, "old"), true},
		{"gone is alive", alive(nodes, "gone"), false},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	nodes[1].StepAside = true
	if serves(nodes, "new", []string{"/a.mp3"}) {
		t.Error("a master that steps aside serves")
	}
}

// A new handover step cancels the one under way and runs once it has
// returned; stop waits for the last one.
func TestHandoversRunOneAtATime(t *testing.T) {
	var h handovers
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	firstDone := make(chan struct{})
	h.start(ctx, func(ctx context.Context) {
		<-ctx.Done()
		close(firstDone)
	})
	second := make(chan struct{})
	h.start(ctx, func(ctx context.Context) {
		select {
		case <-firstDone:
		default:
			t.Error("the second step ran before the first returned")
		}
		close(second)
		<-ctx.Done()
	})
	select {
	case <-second:
	case <-ctx.Done():
		t.Fatal("the second step did not run")
	}
	h.stop()
	h.stop() // nothing under way: returns at once
}
