package bandwidth

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeProc is a procfs root in a temporary directory whose net/dev the
// test rewrites between samples.
type fakeProc struct {
	t    *testing.T
	root string
}

func newFakeProc(t *testing.T) *fakeProc {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &fakeProc{t: t, root: root}
	p.write("net/route", string(fixture(t, "route.txt")))
	return p
}

func (p *fakeProc) write(name, data string) {
	p.t.Helper()
	if err := os.WriteFile(filepath.Join(p.root, name), []byte(data), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// setTx writes a net/dev where iface has sent tx bytes.
func (p *fakeProc) setTx(iface string, tx uint64) {
	header := strings.Join(strings.Split(string(fixture(p.t, "net-dev.txt")), "\n")[:2], "\n")
	p.write("net/dev", fmt.Sprintf("%s\n    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n%6s: 5 5 0 0 0 0 0 0 %d 7 0 0 0 0 0 0\n",
		header, iface, tx))
}

func approx(got, want float64) bool { return math.Abs(got-want) <= 1e-6*math.Max(1, want) }

func TestMonitorRate(t *testing.T) {
	p := newFakeProc(t)
	p.setTx("eth0", 0)
	m, err := New(Config{ProcPath: p.root, Interface: "eth0", Window: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_000_000, 0)
	steps := []struct {
		at   time.Duration
		tx   uint64
		want float64 // bits/s
	}{
		{0, 1000, 0},                                // one sample: no rate yet
		{time.Second, 126_000, 1_000_000},           // 125,000 B in 1 s
		{2 * time.Second, 251_000, 1_000_000},       // steady
		{3 * time.Second, 251_000, 2_000_000.0 / 3}, // idle second: 250,000 B over 3 s
		{4 * time.Second, 251_000, 1_000_000.0 / 3}, // the first second left the window
		{5 * time.Second, 251_000, 0},
		{6 * time.Second, 1_000, 8_000.0 / 3}, // counter reset: counted from 0, no spike
		{7 * time.Second, 1_251_000, 10_008_000.0 / 3},
	}
	for i, st := range steps {
		p.setTx("eth0", st.tx)
		got, err := m.Sample(t0.Add(st.at))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !approx(got, st.want) || !approx(m.Rate(), st.want) {
			t.Errorf("step %d (t=%v tx=%d): rate %.1f (Rate %.1f), want %.1f", i, st.at, st.tx, got, m.Rate(), st.want)
		}
	}
}

func TestMonitorInterfaceGone(t *testing.T) {
	p := newFakeProc(t)
	p.setTx("eth0", 0)
	m, err := New(Config{ProcPath: p.root, Interface: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(0, 0)
	m.Sample(t0)
	p.setTx("eth0", 1000)
	if r, _ := m.Sample(t0.Add(time.Second)); r != 8000 {
		t.Fatalf("rate %v, want 8000", r)
	}
	p.setTx("eth1", 5000)
	if _, err := m.Sample(t0.Add(2 * time.Second)); err == nil || !strings.Contains(err.Error(), `"eth0" not found`) {
		t.Errorf("sampling a vanished interface: %v", err)
	}
	if m.Rate() != 0 {
		t.Errorf("rate %v after a failed sample, want 0", m.Rate())
	}
	// It comes back with a fresh counter: the rate starts over.
	p.setTx("eth0", 400)
	m.Sample(t0.Add(3 * time.Second))
	p.setTx("eth0", 1400)
	if r, _ := m.Sample(t0.Add(4 * time.Second)); r != 8000 {
		t.Errorf("rate %v after the interface came back, want 8000", r)
	}
}

func TestNewErrors(t *testing.T) {
	p := newFakeProc(t)
	p.setTx("eth0", 0)
	if _, err := New(Config{ProcPath: p.root, Interface: "nope0"}); err == nil ||
		!strings.Contains(err.Error(), `interface "nope0" not found`) {
		t.Errorf("unknown interface: %v", err)
	}
	if _, err := New(Config{ProcPath: t.TempDir(), Interface: "eth0"}); err == nil {
		t.Error("missing net/dev: no error")
	}
	p.write("net/route", string(fixture(t, "route-no-default.txt")))
	if _, err := New(Config{ProcPath: p.root}); err == nil || !strings.Contains(err.Error(), "no default route") {
		t.Errorf("no interface and no default route: %v", err)
	}
}

func TestDefaultInterface(t *testing.T) {
	p := newFakeProc(t)
	p.setTx("enp0s31f6", 0)
	m, err := New(Config{ProcPath: p.root})
	if err != nil {
		t.Fatal(err)
	}
	if m.Interface() != "enp0s31f6" {
		t.Errorf("Interface() = %q, want the default route's enp0s31f6", m.Interface())
	}
}

// Run on the real /proc: it samples lo until the context ends.
func TestRunOnRealProc(t *testing.T) {
	m, err := New(Config{Interface: "lo", Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	deadline := time.Now().Add(3 * time.Second)
	for m.sampleCount() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if n := m.sampleCount(); n < 3 {
		t.Errorf("Run took %d samples in 3s, want >= 3", n)
	}
	if r := m.Rate(); r < 0 || math.IsNaN(r) {
		t.Errorf("rate on lo %v", r)
	}
}

func (m *Monitor) sampleCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.samples)
}
