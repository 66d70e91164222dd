package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// TestRealTimeListenersThroughLongOutage: listeners that read an MP3
// mount at its own bitrate, as a hardware radio plays it, one through
// each node's front-end, stay connected through a two-minute outage of
// the source and are back on the live audio when it returns. Before the
// live silence mounts, Icecast's fallback file came at several times the
// bitrate and such listeners were dropped as slow within 20 s.
func TestRealTimeListenersThroughLongOutage(t *testing.T) {
	const (
		outage = 120 * time.Second
		rate   = 128_000 / 8 // audiotest.Source's MP3 bitrate, in bytes
		burst  = 64 << 10    // what the listener buffers before it plays
	)
	ctx := testenv.Context(t, outage+3*time.Minute)
	p := startPair(t, []string{"127.0.0.33", "127.0.0.34"})
	fes := []*ct.Redirectord{p.f1, p.f2}
	m, source := p.liveMount(ctx, t, "/radio.mp3", p.f1)
	sourceURL := ct.SourceURL(p.addr(p.f1), m)

	var listeners []*audiotest.Listener
	for _, f := range fes {
		l := audiotest.ListenPaced(ctx, f.URL("/_stream"+m.Name), rate, burst)
		defer l.Stop()
		if err := l.WaitBytes(0, burst+rate, 20*time.Second); err != nil {
			t.Fatalf("listener on %s: %v", f.Name, err)
		}
		listeners = append(listeners, l)
	}

	source.Kill()
	start := time.Now()
	marks := make([]int, len(listeners))
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for time.Since(start) < outage {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
		for i, l := range listeners {
			if err := l.Err(); err != nil {
				t.Fatalf("listener on %s dropped %v into the outage: %v", fes[i].Name, time.Since(start).Round(time.Second), err)
			}
			if time.Since(start) < outage-15*time.Second {
				marks[i] = l.Mark()
			}
		}
	}
	for i, l := range listeners {
		if n := l.Bytes() - marks[i]; n == 0 {
			t.Errorf("listener on %s received nothing in the last 15 s of the outage", fes[i].Name)
		}
		marks[i] = l.Mark()
	}
	t.Logf("both listeners stayed connected through %v without a source", outage)

	audiotest.Source(t, sourceURL)
	back := time.Now()
	for i, l := range listeners {
		testenv.Eventually(t, time.Minute, func() error {
			if err := l.Err(); err != nil {
				return err
			}
			data := l.DataSince(marks[i])
			if len(data) < 2*rate {
				return fmt.Errorf("listener on %s: %d bytes since the source returned", fes[i].Name, len(data))
			}
			v, err := audiotest.MeanVolume(context.WithoutCancel(ctx), data[len(data)-2*rate:])
			if err == nil && v < -40 {
				err = fmt.Errorf("listener on %s hears silence (%.1f dB) after the source returned", fes[i].Name, v)
			}
			return err
		})
		t.Logf("listener on %s back on the live audio %v after the source returned", fes[i].Name, time.Since(back).Round(100*time.Millisecond))
	}
}
