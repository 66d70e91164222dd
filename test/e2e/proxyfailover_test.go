package e2e

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// TestProxiedStreamOutlivesLocalIcecast kills the radiod and Icecast of
// the node a proxied listener streams from, and starts them again later:
// its front-end takes the mount from the master meanwhile and splices it
// into the same connection, then goes back to the local Icecast once that
// serves the mount again. The listeners, with Icy metadata and without,
// stay connected and hear live audio throughout, each piece once, and no
// fallback silence.
func TestProxiedStreamOutlivesLocalIcecast(t *testing.T) {
	const rate = 128_000 / 8 // audiotest.Source's MP3, in bytes a second
	ctx := testenv.Context(t, 3*time.Minute)
	p := startPair(t, []string{"127.0.0.35", "127.0.0.36"})
	c, r2, f2 := p.c, p.r2, p.f2
	m, _ := p.liveMount(ctx, t, "/proxied.mp3", p.f1)

	l := audiotest.Listen(ctx, f2.URL("/_stream"+m.Name))
	defer l.Stop()
	icy, err := audiotest.ListenIcy(ctx, f2.URL("/_stream"+m.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer icy.Close()
	var blocks atomic.Int64 // metadata blocks the Icy listener read
	icyErr := make(chan error, 1)
	go func() {
		for {
			if _, err := icy.NextMeta(); err != nil {
				icyErr <- err
				return
			}
			blocks.Add(1)
		}
	}()
	if err := l.WaitBytes(0, 64<<10, 20*time.Second); err != nil {
		t.Fatal(err)
	}

	mark := l.Mark()
	before := l.DataSince(mark - 512)[:512] // the last bytes heard before the kill
	// n2's radiod and Icecast die; its front-end stays. The listener
	// goes on for longer than a lost local Icecast is retried (5 s).
	r2.KillHost()
	killed := time.Now()
	if err := l.WaitBytes(l.Mark(), 8*rate, 30*time.Second); err != nil {
		t.Fatalf("the listener, with n2's Icecast down: %v", err)
	}
	t.Logf("the listener got 8 s of audio in %v while n2 was down", time.Since(killed).Round(100*time.Millisecond))
	r2.Start()
	back := time.Now()
	testenv.Eventually(t, 30*time.Second, func() error { return mountLiveOn(c, m.Name, 2) })
	t.Logf("n2 serves the mount again %v after it was restarted", time.Since(back).Round(100*time.Millisecond))
	// Long enough for the front-end to see it and move back.
	if err := l.WaitBytes(l.Mark(), 5*rate, 30*time.Second); err != nil {
		t.Fatalf("the listener: %v", err)
	}
	n := blocks.Load()
	testenv.Eventually(t, 10*time.Second, func() error {
		select {
		case err := <-icyErr:
			t.Fatalf("the Icy listener lost its stream: %v", err)
		default:
		}
		if blocks.Load() <= n {
			return fmt.Errorf("the Icy listener gets no new metadata block")
		}
		return nil
	})
	data := l.DataSince(mark)
	if bytes.Contains(data, before) {
		t.Error("the listener heard the same audio twice: the new connection was not spliced where the old one ended")
	}
	if err := audiotest.DecodeJoined(context.WithoutCancel(ctx), data, 10*time.Second); err != nil {
		t.Errorf("what the listener got around the restart: %v", err)
	}
	levels, err := audiotest.Levels(context.WithoutCancel(ctx), data, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range levels {
		if v < -50 {
			t.Errorf("the listener heard silence (%.0f dB) %.1f s after its Icecast was killed", v, float64(i)/2)
		}
	}
	t.Logf("longest pause between reads: %v", l.MaxGap().Round(10*time.Millisecond))
}
