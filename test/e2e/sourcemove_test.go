package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/etcdtest"
	"autoradio/internal/testenv"
)

// TestSourceOutlivesMaster: a source that never reconnects (one ffmpeg,
// one connection) pushes through the front-end of the node that is not
// master. The master's host dies (radiod, Icecast and front-end killed):
// the other node is elected, and its front-end, which holds the
// source's connection, moves the source to its own Icecast. The ffmpeg
// keeps running, the mount is live on the new master, and a listener of
// the surviving node hears the live tone again.
func TestSourceOutlivesMaster(t *testing.T) {
	ct.Require(t)
	const rate = 128_000 / 8 // audiotest's MP3 bitrate, in bytes
	ctx := testenv.Context(t, 3*time.Minute)
	etcd := etcdtest.Start(t)
	c := autoradio.NewClient(etcd.Client(), nil)
	ips := []string{"127.0.0.71", "127.0.0.72"}
	icePort, httpPort, dnsPort := ct.FreePort(t, ips...), ct.FreePort(t, ips...), ct.FreePort(t, ips...)
	monitorPort := ct.FreePort(t, ips...)
	frontend := func(ip string) string { return "--http-addr=" + ip + ":" + strconv.Itoa(httpPort) }
	r1 := ct.StartRadiod(t, etcd.URL(), "n1", ips[0], icePort, frontend(ips[0]))
	ct.Master(t, c, 10*time.Second, r1)
	r2 := ct.StartRadiod(t, etcd.URL(), "n2", ips[1], icePort, frontend(ips[1]))
	ct.WaitNodesUp(t, c, 2, 10*time.Second)
	fe1 := ct.StartRedirectord(t, etcd.URL(), "n1", ips[0], icePort, httpPort, dnsPort)
	monitor := ips[1] + ":" + strconv.Itoa(monitorPort)
	fe2 := ct.StartRedirectord(t, etcd.URL(), "n2", ips[1], icePort, httpPort, dnsPort, "--monitor-addr", monitor)

	m := ct.NewMount(t, "/radio.mp3")
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	source := audiotest.SourceOnce(t, ct.SourceURL(ips[1]+":"+strconv.Itoa(httpPort), m))
	r1.WaitSource(20*time.Second, m.Name)
	testenv.Eventually(t, 20*time.Second, func() error { return mountLiveOn(c, m.Name, 2) })
	l := listenUntilAudio(t, ctx, fe2.URL("/_stream"+m.Name), 15*time.Second)
	accepted := metric(t, monitor, `autoradio_source_connections_total{result="accepted"}`)

	r1.KillHost()
	fe1.Proc.Kill()
	killed := time.Now()
	mark := l.Mark()
	ct.Master(t, c, ct.SessionTTL+10*time.Second, r2)
	elected := time.Since(killed)
	r2.WaitSource(30*time.Second, m.Name)
	live := time.Since(killed)

	// The listener hears the tone again: the last second it received is
	// loud (the fallback is silence).
	var heard time.Duration
	testenv.Eventually(t, time.Minute, func() error {
		if err := l.Err(); err != nil {
			return err
		}
		data := l.DataSince(mark)
		if len(data) < 2*rate {
			return fmt.Errorf("%d bytes since the kill", len(data))
		}
		v, err := audiotest.MeanVolume(context.WithoutCancel(ctx), data[len(data)-rate:])
		if err == nil && v < -40 {
			err = fmt.Errorf("silence (%.1f dB)", v)
		}
		heard = time.Since(killed)
		return err
	})
	select {
	case <-source.Done():
		t.Fatalf("the source ended:\n%s", source.Output())
	default:
	}
	if now := metric(t, monitor, `autoradio_source_connections_total{result="accepted"}`); now != accepted {
		t.Errorf("source connections accepted by the front-end went from %v to %v: the source reconnected", accepted, now)
	}
	if n := strings.Count(source.Output(), "Server returned"); n > 0 {
		t.Logf("the source was refused %d times before its first 200", n)
	}
	reconnects := metric(t, monitor, `autoradio_source_reconnects_total{reason="icecast_lost"}`) +
		metric(t, monitor, `autoradio_source_reconnects_total{reason="write_failed"}`) +
		metric(t, monitor, `autoradio_source_reconnects_total{reason="master_changed"}`)
	if reconnects < 1 {
		t.Errorf("the front-end counted %v moves of the source", reconnects)
	}
	silent := silenceHeard(t, ctx, l.DataSince(mark))
	t.Logf("master killed: n2 elected after %v, source live on it after %v, listener on n2 hears the tone %v after the kill; "+
		"its stream since the kill holds %v of silence; %v moves of the source, %v bytes dropped; longest gap between reads %v",
		elected.Round(time.Millisecond), live.Round(time.Millisecond), heard.Round(100*time.Millisecond), silent,
		reconnects, metric(t, monitor, "autoradio_source_dropped_bytes_total"), l.MaxGap().Round(time.Millisecond))
}

// silenceHeard returns how much of an MP3 capture is silence (the
// fallback), in windows of 100 ms.
func silenceHeard(t *testing.T, ctx context.Context, data []byte) time.Duration {
	const window = 100 * time.Millisecond
	levels, err := audiotest.Levels(context.WithoutCancel(ctx), data, window)
	if err != nil {
		t.Logf("levels: %v", err)
		return 0
	}
	var silent time.Duration
	for _, v := range levels {
		if v < -40 {
			silent += window
		}
	}
	return silent
}

// metric returns the value of a series (name{labels} as scrape keys
// them) on a monitoring address; 0 when absent.
func metric(t *testing.T, addr, series string) float64 {
	t.Helper()
	values, err := scrape("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scraping %s: %v", addr, err)
	}
	return values[series]
}
