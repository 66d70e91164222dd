package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"autoradio"
	"autoradio/fe/hls"
	"autoradio/internal/testenv"
)

// TestHLSSessions loads one node with 1,000 HLS sessions, as many as its
// --max-listeners: they are counted as the mount's listeners within
// seconds; the node, full, gets no new listener, HLS or stream, from the
// load balancer, and refuses new sessions itself; the sessions expire
// once they stop.
func TestHLSSessions(t *testing.T) {
	const n = 1000
	p := startPairArgs(t, []string{"127.0.0.113", "127.0.0.114"}, []string{"--max-listeners=" + strconv.Itoa(n)}, func(string) []string { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Bound(3*time.Minute))
	defer cancel()
	p.liveMount(ctx, t, "/load.mp3", p.f1)

	media := p.f1.URL("/_hls/load.mp3/index.m3u8")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	defer client.CloseIdleConnections()
	load, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	began := time.Now()
	for range n {
		wg.Go(func() {
			if err := hlsSession(load, client, media, hls.NewToken()); err != nil {
				errs <- err
			}
		})
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if got := nodeListeners(ctx, p.c, "n1", "/load.mp3"); got < n {
			return fmt.Errorf("n1 publishes %d listeners of /load.mp3, want %d", got, n)
		}
		return nil
	})
	t.Logf("%d sessions counted %v after they began", n, time.Since(began).Round(time.Millisecond))

	if code := status(t, media+"?"+hls.MediaQuery(hls.NewToken())); code != http.StatusServiceUnavailable {
		t.Errorf("a new session on the full node: %d, want 503", code)
	}
	for range 5 {
		if loc := redirectTarget(t, p.f1.URL("/load.mp3")); !strings.Contains(loc, p.f2.IP) {
			t.Errorf("a listener sent to %s while n1 is full", loc)
		}
		urls, _ := variants(t, get(t, p.f1.URL("/load.mp3.m3u8")))
		if len(urls) == 0 || urls[0].Hostname() != p.f2.IP {
			t.Errorf("HLS listener's first variant %v while n1 is full", urls)
		}
	}

	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("session: %v", err)
		break
	}
	stopped := time.Now()
	testenv.Eventually(t, 40*time.Second, func() error {
		if got := nodeListeners(ctx, p.c, "n1", "/load.mp3"); got != 0 {
			return fmt.Errorf("n1 publishes %d listeners of /load.mp3 after the sessions stopped", got)
		}
		return nil
	})
	t.Logf("sessions expired %v after they stopped", time.Since(stopped).Round(time.Millisecond))
}

// hlsSession plays a media playlist as a player would, without decoding:
// it fetches the playlist and its newest segment every two seconds, until
// ctx ends.
func hlsSession(ctx context.Context, c *http.Client, media, token string) error {
	u := media + "?" + hls.MediaQuery(token)
	for {
		body, err := fetchBody(ctx, c, u)
		if err != nil {
			return err
		}
		lines := strings.Fields(body)
		if seg := lines[len(lines)-1]; !strings.HasPrefix(seg, "#") {
			ref, _ := url.Parse(seg)
			base, _ := url.Parse(u)
			if _, err := fetchBody(ctx, c, base.ResolveReference(ref).String()); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
}

// fetchBody GETs u and returns its body; nil error when ctx ended.
func fetchBody(ctx context.Context, c *http.Client, u string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "#", nil
		}
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if ctx.Err() != nil {
		return "#", nil
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s %v", u, resp.Status, err)
	}
	return string(b), nil
}

// nodeListeners returns the listeners of mount that node publishes.
func nodeListeners(ctx context.Context, c *autoradio.Client, node, mount string) int {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	nodes, err := c.ListNodes(ctx)
	if err != nil {
		return -1
	}
	for _, st := range nodes {
		if ms, ok := st.Mount(mount); ok && st.Name == node {
			return ms.Listeners
		}
	}
	return -1
}
