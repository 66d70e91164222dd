package backoff

import (
	"context"
	"testing"
	"time"
)

func TestSequence(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 5 * time.Second, ResetAfter: time.Minute}
	steps := []struct {
		uptime, want time.Duration
	}{
		{0, time.Second},
		{time.Second, 2 * time.Second},
		{0, 4 * time.Second},
		{0, 5 * time.Second},
		{59 * time.Second, 5 * time.Second},
		{time.Minute, time.Second}, // stayed up long enough: reset
		{0, 2 * time.Second},
	}
	for i, st := range steps {
		b.Ran(st.uptime)
		if got := b.Next(); got != st.want {
			t.Errorf("step %d: Ran(%v), Next() = %v, want %v", i, st.uptime, got, st.want)
		}
	}
	b.Reset()
	if got := b.Next(); got != time.Second {
		t.Errorf("after Reset: Next = %v, want 1s", got)
	}
}

func TestResetAfterDefaultsToMax(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 4 * time.Second}
	b.Next()
	b.Ran(3 * time.Second)
	if got := b.Next(); got != 2*time.Second {
		t.Errorf("after a run shorter than Max: Next = %v, want 2s", got)
	}
	b.Ran(4 * time.Second)
	if got := b.Next(); got != time.Second {
		t.Errorf("after a run of Max: Next = %v, want 1s", got)
	}
}

func TestJitter(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: 400 * time.Millisecond, Jitter: true}
	for i, nominal := range []time.Duration{100, 200, 400, 400} {
		nominal *= time.Millisecond
		if d := b.Next(); d < nominal/2 || d > nominal {
			t.Errorf("delay %d = %v, want %v..%v", i, d, nominal/2, nominal)
		}
	}
}

func TestWait(t *testing.T) {
	b := Backoff{Initial: time.Millisecond, Max: time.Millisecond}
	if !b.Wait(context.Background()) {
		t.Error("Wait = false, want true")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	long := Backoff{Initial: time.Hour, Max: time.Hour}
	if long.Wait(ctx) {
		t.Error("Wait with an ended context = true, want false")
	}
}
