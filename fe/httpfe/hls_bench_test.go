package httpfe

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"autoradio"
	"autoradio/fe/hls"
)

// BenchmarkHLSListeners measures what the front-end costs per HLS listener,
// to set beside BenchmarkProxiedListeners: 1,000 sessions of one mount fed
// by the same in-process 128 kbit/s upstream, each reloading the media
// playlist every target duration and fetching each new segment, as hls.js
// does, over keep-alive connections. Memory and CPU are the whole
// process's growth per session, the sessions' own HTTP clients included:
// an upper bound of the front-end's. It also reports how far behind live
// the newest segment ends when it is first listed.
func BenchmarkHLSListeners(b *testing.B) {
	const n = 1000
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	up := servePaced(b, 128_000/8)
	c := newFakeCluster(&autoradio.Mount{Name: "/bench.mp3"})
	s, reg := startServer(b, Config{LocalIcecast: up, MaxProxiedListeners: -1}, c)
	media := "http://" + s.Addr().String() + "/_hls/bench.mp3/index.m3u8?"
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	target := hls.DefaultTarget
	for range b.N {
		lag := newestSegmentLag(ctx, b, client, media+hls.MediaQuery(hls.NewToken()))
		base := memInUse()
		load, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				// Spread over a target duration, as players are.
				time.Sleep(target * time.Duration(i) / n)
				hlsPlayer(load, client, media+hls.MediaQuery(hls.NewToken()), target)
			})
		}
		waitFor(ctx, b, "every session", func() bool { return metricValue(b, reg, "autoradio_hls_sessions") == n })
		time.Sleep(target) // every session has its connection
		with := memInUse()
		cpu := cpuTime()
		start := time.Now()
		time.Sleep(10 * time.Second) // playing, for the CPU figure
		cpu = (cpuTime() - cpu) / time.Since(start).Minutes() / n
		stop()
		wg.Wait()
		heap, stack := base.perStream(with, n)
		b.ReportMetric(heap+stack, "KiB/listener")
		b.ReportMetric(cpu, "process-CPU-s/listener-minute")
		b.ReportMetric(lag.Seconds(), "newest-segment-lag-s")
		b.Logf("%d HLS sessions: %.1f KiB each (heap %.1f, stacks %.1f), process CPU %.4f s per listener-minute; newest segment listed %v after its end",
			n, heap+stack, heap, stack, cpu, lag.Round(time.Millisecond))
	}
}

// hlsPlayer reloads the media playlist at u every target duration and
// fetches each segment it has not fetched yet, until ctx ends.
func hlsPlayer(ctx context.Context, c *http.Client, u string, target time.Duration) {
	seen := map[string]bool{}
	for ctx.Err() == nil {
		body := getBody(ctx, c, u)
		for _, seg := range segmentRE.FindAllStringSubmatch(body, -1) {
			if !seen[seg[3]] {
				seen[seg[3]] = true
				getBody(ctx, c, u[:len("http://")+len(hostOf(u))]+"/_hls/bench.mp3/"+seg[3])
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(target):
		}
	}
}

// newestSegmentLag polls the media playlist u every 50 ms for three
// segments, and returns the median time from the end of the newest
// segment's audio (its program date-time plus its duration) to when it
// was first listed.
func newestSegmentLag(ctx context.Context, b *testing.B, c *http.Client, u string) time.Duration {
	var lags []time.Duration
	last := ""
	deadline := time.Now().Add(4 * hls.DefaultTarget)
	for len(lags) < 4 && time.Now().Before(deadline) {
		segs := segmentRE.FindAllStringSubmatch(getBody(ctx, c, u), -1)
		if len(segs) > 0 {
			seg := segs[len(segs)-1]
			if seg[3] != last {
				pdt, _ := time.Parse("2006-01-02T15:04:05.000Z", seg[1])
				dur, _ := strconv.ParseFloat(seg[2], 64)
				if last != "" { // the first is listed before this poll began
					lags = append(lags, time.Since(pdt.Add(time.Duration(dur*float64(time.Second)))))
				}
				last = seg[3]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(lags) == 0 {
		b.Fatal("no new segment listed")
	}
	slices.Sort(lags)
	return lags[len(lags)/2]
}

var segmentRE = regexp.MustCompile(`#EXT-X-PROGRAM-DATE-TIME:(\S+)\n#EXTINF:([\d.]+),\n(\S+)`)

func getBody(ctx context.Context, c *http.Client, u string) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := c.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func hostOf(u string) string {
	rest := u[len("http://"):]
	for i := range len(rest) {
		if rest[i] == '/' {
			return rest[:i]
		}
	}
	return rest
}
