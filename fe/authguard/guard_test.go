package authguard

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// clock is a manual clock for Config.Now.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newGuard(t *testing.T, cfg Config) (*Guard, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cfg.Now = c.Now
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g, c
}

// fail makes key try and fail n times, failing the test if an attempt is
// refused, and returns the lockout the last one started.
func fail(t *testing.T, g *Guard, key string, n int) time.Duration {
	t.Helper()
	var lock time.Duration
	for i := range n {
		if wait, ok := g.Allow(key); !ok {
			t.Fatalf("%s: attempt %d refused (retry after %v)", key, i+1, wait)
		}
		lock = g.Failed(key)
	}
	return lock
}

func TestLockoutAfterMaxFailures(t *testing.T) {
	g, c := newGuard(t, Config{})
	if lock := fail(t, g, "192.0.2.1", DefaultMaxFailures-1); lock != 0 {
		t.Fatalf("locked out for %v after %d failures", lock, DefaultMaxFailures-1)
	}
	if lock := fail(t, g, "192.0.2.1", 1); lock != DefaultLockout {
		t.Fatalf("lockout %v after %d failures, want %v", lock, DefaultMaxFailures, DefaultLockout)
	}
	c.Advance(20 * time.Second)
	if wait, ok := g.Allow("192.0.2.1"); ok || wait != 40*time.Second {
		t.Errorf("during the lockout: Allow = %v, %v; want 40s, false", wait, ok)
	}
	if _, ok := g.Allow("192.0.2.2"); !ok {
		t.Error("another address is refused")
	}
	g.Succeeded("192.0.2.2")
	c.Advance(40 * time.Second)
	if _, ok := g.Allow("192.0.2.1"); !ok {
		t.Error("refused once the lockout is over")
	}
}

func TestLockoutsDoubleUpToMax(t *testing.T) {
	g, c := newGuard(t, Config{MaxFailures: 3, Lockout: time.Minute, MaxLockout: 5 * time.Minute})
	for _, want := range []time.Duration{1, 2, 4, 5, 5} {
		want *= time.Minute
		if lock := fail(t, g, "k", 3); lock != want {
			t.Fatalf("lockout %v, want %v", lock, want)
		}
		c.Advance(want)
	}
}

func TestFailuresOutsideWindowDoNotLock(t *testing.T) {
	g, c := newGuard(t, Config{MaxFailures: 3, Window: time.Minute})
	for range 10 {
		if lock := fail(t, g, "k", 2); lock != 0 {
			t.Fatalf("locked out for %v", lock)
		}
		c.Advance(time.Minute)
	}
}

func TestSuccessClears(t *testing.T) {
	g, c := newGuard(t, Config{MaxFailures: 3, Lockout: time.Minute})
	fail(t, g, "k", 3)
	c.Advance(time.Minute)
	fail(t, g, "k", 2)
	g.Allow("k")
	g.Succeeded("k")
	if g.Len() != 0 {
		t.Errorf("%d addresses remembered after a success, want 0", g.Len())
	}
	if lock := fail(t, g, "k", 3); lock != time.Minute {
		t.Errorf("lockout %v after a success, want the first one's, 1m", lock)
	}
}

func TestForgetAfter(t *testing.T) {
	g, c := newGuard(t, Config{MaxFailures: 2, Lockout: time.Minute, MaxLockout: time.Hour, ForgetAfter: 2 * time.Hour})
	fail(t, g, "old", 2)
	c.Advance(time.Hour)
	fail(t, g, "new", 1)
	c.Advance(time.Hour)
	if lock := fail(t, g, "old", 2); lock != time.Minute {
		t.Errorf("lockout %v of a forgotten address, want 1m", lock)
	}
	if n := g.Len(); n != 2 {
		t.Errorf("%d addresses remembered, want 2", n)
	}
}

func TestPendingAttemptsBounded(t *testing.T) {
	g, _ := newGuard(t, Config{MaxFailures: 3})
	for i := range 3 {
		if _, ok := g.Allow("k"); !ok {
			t.Fatalf("parallel attempt %d refused", i+1)
		}
	}
	if wait, ok := g.Allow("k"); ok || wait != pendingRetry {
		t.Fatalf("4th parallel attempt: %v, %v; want %v, false", wait, ok, pendingRetry)
	}
	g.Inconclusive("k")
	if _, ok := g.Allow("k"); !ok {
		t.Error("refused after an attempt ended")
	}
	g.Inconclusive("k")
	g.Inconclusive("k")
	g.Inconclusive("k")
	if g.Len() != 0 {
		t.Errorf("%d addresses remembered after inconclusive attempts only, want 0", g.Len())
	}
}

func TestMemoryBounded(t *testing.T) {
	g, c := newGuard(t, Config{MaxFailures: 2, MaxAddresses: 100})
	for i := range 10_000 {
		fail(t, g, fmt.Sprint("k", i), 1)
		c.Advance(time.Millisecond)
	}
	if n := g.Len(); n != 100 {
		t.Errorf("%d addresses remembered, want 100", n)
	}
	// The most recent are those kept.
	if lock := fail(t, g, "k9999", 1); lock == 0 {
		t.Error("the latest address was forgotten")
	}
}

func TestConcurrentUse(t *testing.T) {
	g, _ := newGuard(t, Config{MaxFailures: 5, MaxAddresses: 50})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				key := fmt.Sprint("k", (w*1000+i)%77)
				if _, ok := g.Allow(key); !ok {
					continue
				}
				switch i % 3 {
				case 0:
					g.Failed(key)
				case 1:
					g.Inconclusive(key)
				default:
					g.Succeeded(key)
				}
			}
		})
	}
	wg.Wait()
	if n := g.Len(); n > 50 {
		t.Errorf("%d addresses remembered, more than MaxAddresses", n)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{MaxFailures: -1},
		{Window: -time.Second},
		{Lockout: time.Hour, MaxLockout: time.Minute},
		{MaxLockout: time.Hour, ForgetAfter: time.Minute},
		{MaxAddresses: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	if _, err := New(Config{Lockout: 2 * time.Hour}); err != nil {
		t.Errorf("a Lockout beyond the default MaxLockout: %v", err)
	}
}

func TestAddrKey(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	} {
		if got := AddrKey(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("AddrKey(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

// TestGuessingRate has an address guess as fast as it is let, every 100
// ms, for a day with the defaults, and bounds how many guesses it gets.
func TestGuessingRate(t *testing.T) {
	g, c := newGuard(t, Config{})
	start := c.Now()
	var minute, hour, day int
	for ; c.Now().Sub(start) < 24*time.Hour; c.Advance(100 * time.Millisecond) {
		if _, ok := g.Allow("k"); !ok {
			continue
		}
		g.Failed("k")
		switch d := c.Now().Sub(start); {
		case d < time.Minute:
			minute++
			fallthrough
		case d < time.Hour:
			hour++
		}
		day++
	}
	t.Logf("guesses: %d in the first minute, %d in the first hour, %d in a day", minute, hour, day)
	if minute > DefaultMaxFailures || hour > 7*DefaultMaxFailures || day > 30*DefaultMaxFailures {
		t.Errorf("%d guesses in the first minute, %d in the first hour, %d in a day: too many", minute, hour, day)
	}
}
