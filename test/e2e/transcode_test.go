package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"autoradio"
	"autoradio/coordination"
	"autoradio/internal/audiotest"
	"autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// These tests run transcoding mounts through real radiod, icecast2,
// liquidsoap and ffmpeg processes.

const (
	// levelWindow is the resolution of the silence and tone detection.
	levelWindow = 100 * time.Millisecond
	// loud and quiet (dBFS) tell the source's tone over noise (about
	// -20) from the silence a transcoder sends while its upstream is away.
	loud, quiet = -40.0, -70.0
)

func requireTranscoding(t *testing.T) {
	t.Helper()
	testenv.RequireBinaries(t, "liquidsoap", "ffprobe")
}

func newTranscodingMount(t *testing.T, name, source string, tr autoradio.Transcoding) *autoradio.Mount {
	m := clustertest.NewMount(t, name)
	tr.SourceName = source
	tr.ApplyDefaults()
	m.Transcoding = &tr
	return m
}

// transcoderRunner asks etcd which node leads the election of mount.
func transcoderRunner(ctx context.Context, c *autoradio.Client, mount string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	v, err := coordination.Leader(ctx, c.Etcd(), autoradio.TranscoderElection(mount))
	if err != nil {
		return "", err
	}
	var cand struct{ Name string }
	if err := json.Unmarshal(v, &cand); err != nil {
		return "", err
	}
	return cand.Name, nil
}

// checkTranscoded captures d of url and checks that it is mp3 at kbps,
// decodes, and carries the source's tone (not silence).
func checkTranscoded(t *testing.T, ctx context.Context, url string, kbps int, d time.Duration) {
	t.Helper()
	data, err := audiotest.Capture(ctx, url, d)
	if err != nil {
		t.Fatalf("listening to %s: %v", url, err)
	}
	st, err := audiotest.Probe(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if br, _ := strconv.Atoi(st.BitRate); st.Codec != "mp3" || br < kbps*950 || br > kbps*1050 {
		t.Errorf("%s: %s at %s bit/s, want mp3 at %d kbit/s", url, st.Codec, st.BitRate, kbps)
	}
	if err := audiotest.DecodeJoined(ctx, data, d/2); err != nil {
		t.Fatalf("capture of %s: %v", url, err)
	}
	levels, err := audiotest.Levels(ctx, data, levelWindow)
	if err != nil {
		t.Fatal(err)
	}
	if i := firstLevel(levels, 0, func(l float64) bool { return l > loud }); i < 0 {
		t.Errorf("%s: no tone in %v of audio (levels %v)", url, d, levels)
	}
}

// firstLevel returns the index of the first window from i on whose level
// satisfies ok, or -1.
func firstLevel(levels []float64, i int, ok func(float64) bool) int {
	for ; i < len(levels); i++ {
		if ok(levels[i]) {
			return i
		}
	}
	return -1
}

// waitLevel waits until what l received after mark (taken at markTime)
// has a window whose level satisfies ok, and returns when that window
// arrived. A listener that has had its burst receives in real time, so a
// window's arrival is markTime plus its position.
func waitLevel(ctx context.Context, l *audiotest.Listener, mark int, markTime time.Time, timeout time.Duration, ok func(float64) bool) (time.Time, error) {
	var at time.Time
	err := testenv.Poll(ctx, timeout, func() error {
		if err := l.Err(); err != nil {
			return err
		}
		levels, err := audiotest.Levels(ctx, l.DataSince(mark), levelWindow)
		if err != nil {
			return err
		}
		i := firstLevel(levels, 0, ok)
		if i < 0 {
			return fmt.Errorf("not yet, in %d windows", len(levels))
		}
		at = markTime.Add(time.Duration(i) * levelWindow)
		return nil
	})
	return at, err
}

// TestTranscodingMount: a transcoding mount is served as mp3 at its
// bitrate, and its listeners stay connected through the loss of the
// upstream source, hearing silence, then the source again.
func TestTranscodingMount(t *testing.T) {
	ctx, etcd, c := setup(t, 100*time.Second)
	requireTranscoding(t)
	n1 := oneNode(t, etcd, c)
	live := createMount(t, ctx, c, "/live.ogg")
	src := audiotest.Source(t, clustertest.SourceURL(n1.Addr(), live))
	n1.WaitSource(5*time.Second, live.Name)

	m := newTranscodingMount(t, "/live-64.mp3", live.Name, autoradio.Transcoding{Codec: "mp3", Bitrate: 64})
	created := time.Now()
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	n1.WaitSource(20*time.Second, m.Name)
	t.Logf("create-transcoding-mount to first audio on %s: %v", m.Name, time.Since(created).Round(time.Millisecond))
	checkTranscoded(t, ctx, n1.URL(m.Name), 64, 4*time.Second)
	if pids := n1.LiquidsoapPIDs(); len(pids) != 1 {
		t.Errorf("%d liquidsoap processes, want 1", len(pids))
	}

	// The source goes away for 10 s: the listener stays connected and
	// hears silence, then the source again.
	l := listenUntilAudio(t, ctx, n1.URL(m.Name), 5*time.Second)
	src.Kill()
	killed, mark := time.Now(), l.Mark()
	silent, err := waitLevel(ctx, l, mark, killed, 10*time.Second, func(v float64) bool { return v < quiet })
	if err != nil {
		t.Fatalf("no silence on %s after the source left: %v", m.Name, err)
	}
	time.Sleep(time.Until(killed.Add(10 * time.Second))) // the outage itself
	mark, markTime := l.Mark(), time.Now()
	audiotest.Source(t, clustertest.SourceURL(n1.Addr(), live))
	n1.WaitSource(5*time.Second, live.Name)
	back := time.Now()
	heard, err := waitLevel(ctx, l, mark, markTime, 15*time.Second, func(v float64) bool { return v > loud })
	if err != nil {
		t.Fatalf("the source came back but %s stays silent: %v", m.Name, err)
	}
	t.Logf("upstream loss: silence on %s %v after the source left; source back on %s %v after its restart, heard on %s %v later; listener connected throughout: %v, longest gap between reads %v",
		m.Name, silent.Sub(killed).Round(time.Millisecond), live.Name, back.Sub(markTime).Round(time.Millisecond),
		m.Name, heard.Sub(back).Round(time.Millisecond), l.Err() == nil, l.MaxGap().Round(time.Millisecond))
	if err := l.Err(); err != nil {
		t.Errorf("the listener was disconnected: %v", err)
	}
	if d := heard.Sub(back); d > 5*time.Second {
		t.Errorf("%s is %v behind its source after the source returned, want a few seconds at most", m.Name, d)
	}
	if err := audiotest.DecodeJoined(ctx, l.Stop(), 10*time.Second); err != nil {
		t.Errorf("what the listener received through the outage: %v", err)
	}
}

// other node wins its election and the mount serves again.
func TestTranscoderTakeover(t *testing.T) {
	ctx, etcd, c := setup(t, 100*time.Second)
	requireTranscoding(t)
	mst, relay := twoNodes(t, etcd, c)
	live := createMount(t, ctx, c, "/live.ogg")
	src := audiotest.Source(t, clustertest.SourceURL(mst.Addr(), live))
	m := newTranscodingMount(t, "/live-64.mp3", live.Name, autoradio.Transcoding{Codec: "mp3", Bitrate: 64})
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	mst.WaitSource(20*time.Second, m.Name)
	runnerName, err := transcoderRunner(ctx, c, m.Name)
	if err != nil {
		t.Fatal(err)
	}
	runner, other := mst, relay
	if runnerName == relay.Name {
		runner, other = relay, mst
	}
	if pids := other.LiquidsoapPIDs(); len(pids) != 0 {
		t.Fatalf("%s runs liquidsoap too: %v", other.Name, pids)
	}

	runner.KillHost()
	killed := time.Now()
	if runner == mst {
		// The source reconnects to the new master, as it would through
		// the front-end.
		src.Kill()
		clustertest.Master(t, c, clustertest.SessionTTL+3*time.Second, other)
		audiotest.Source(t, clustertest.SourceURL(other.Addr(), live))
	}
	// The dead node's liquidsoap left the master with its connection;
	// the survivor's connects once it won the election.
	testenv.Eventually(t, 2*clustertest.SessionTTL, func() error {
		name, err := transcoderRunner(ctx, c, m.Name)
		if err != nil || name != other.Name {
			return fmt.Errorf("transcoder run by %q (%v), want %s", name, err, other.Name)
		}
		return nil
	})
	elected := time.Since(killed)
	other.WaitSource(30*time.Second, m.Name)
	t.Logf("kill -9 of %s (master: %v), which ran the transcoder: %s elected after %v, serves %s again after %v",
		runner.Name, runner == mst, other.Name, elected.Round(time.Millisecond), m.Name, time.Since(killed).Round(time.Millisecond))
	if pids := other.LiquidsoapPIDs(); len(pids) != 1 {
		t.Errorf("%s runs %d liquidsoap processes, want 1", other.Name, len(pids))
	}
	checkTranscoded(t, ctx, other.URL(m.Name), 64, 3*time.Second)
}
