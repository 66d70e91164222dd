package icecast

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Defaults of StatusClient.
const (
	DefaultStatusTimeout    = 2 * time.Second
	DefaultRelayRecheck     = 30 * time.Second
	DefaultRelayConcurrency = 4
	maxStatusBytes          = 16 << 20
	maxListClientsBytes     = 4 << 20
)

// StatusClient reads the status of the local Icecast.
//
// Relay connections of other nodes look like listeners on the master, and
// the only place Icecast 2.4 tells them apart (by their "Icecast 2.4.4"
// user agent) is /admin/listclients, one request per mount, with admin
// credentials. With ExcludeRelays, Fetch asks it for mounts that have
// listeners, but only when a mount's listener count changed since it last
// asked, or after RelayRecheck: relays connect rarely, and any relay that
// comes or goes changes the count. Every other node needs one request.
type StatusClient struct {
	// URL is the base URL of Icecast, e.g. "http://127.0.0.1:8000".
	URL string
	// AdminPassword is Icecast's admin password, used for listclients.
	AdminPassword string
	// ExcludeRelays makes Fetch count relay connections (set it on the
	// master, where other nodes relay from).
	ExcludeRelays bool
	// Timeout bounds each request (default DefaultStatusTimeout).
	Timeout time.Duration
	// RelayRecheck is how long a relay count is trusted while the
	// mount's listener count stays the same (default DefaultRelayRecheck).
	RelayRecheck time.Duration
	// Concurrency bounds the parallel listclients requests.
	Concurrency int
	// HTTPClient defaults to a client without keep-alive (Icecast 2.4
	// closes every connection anyway).
	HTTPClient *http.Client
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	mu     sync.Mutex
	relays map[string]relayCount
}

// relayCount is a cached listclients result.
type relayCount struct {
	listeners int // Icecast's listener count when counted
	relays    int
	at        time.Time
}

// Fetch reads the status. It fails only when the status itself cannot be
// read; a failed relay count keeps the last known one (or 0), logged.
func (c *StatusClient) Fetch(ctx context.Context) (*Status, error) {
	body, err := c.get(ctx, StatusPath, false, maxStatusBytes)
	if err != nil {
		return nil, fmt.Errorf("icecast: status: %w", err)
	}
	st, err := ParseStatus(body)
	if err != nil {
		return nil, err
	}
	if c.ExcludeRelays {
		c.countRelays(ctx, st)
	}
	return st, nil
}

// countRelays fills in Relays for every mount with listeners, asking
// Icecast only for those whose cached count is stale.
func (c *StatusClient) countRelays(ctx context.Context, st *Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	recheck := cmp.Or(c.RelayRecheck, DefaultRelayRecheck)
	fresh := make(map[string]relayCount, len(st.Mounts))
	var stale []int
	for i, m := range st.Mounts {
		if m.Listeners == 0 {
			continue
		}
		rc, ok := c.relays[m.Mount]
		if ok && rc.listeners == m.Listeners && now.Sub(rc.at) < recheck {
			fresh[m.Mount] = rc
			st.Mounts[i].Relays = rc.relays
			continue
		}
		stale = append(stale, i)
	}
	counts := c.fetchRelays(ctx, st, stale)
	for k, i := range stale {
		m := &st.Mounts[i]
		rc := counts[k]
		if rc.at.IsZero() { // failed: keep the last known count
			rc = c.relays[m.Mount]
		}
		m.Relays = min(rc.relays, m.Listeners)
		fresh[m.Mount] = rc
	}
	c.relays = fresh
}

// fetchRelays asks listclients for the mounts st.Mounts[idx[k]], at most
// Concurrency at a time, and waits for every request.
func (c *StatusClient) fetchRelays(ctx context.Context, st *Status, idx []int) []relayCount {
	out := make([]relayCount, len(idx))
	sem := make(chan struct{}, cmp.Or(c.Concurrency, DefaultRelayConcurrency))
	var wg sync.WaitGroup
	for k, i := range idx {
		m := st.Mounts[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			n, err := c.fetchRelayCount(ctx, m.Mount)
			if err != nil {
				c.logger().Debug("counting relays failed", "mount", m.Mount, "err", err)
				return
			}
			out[k] = relayCount{listeners: m.Listeners, relays: n, at: time.Now()}
		}()
	}
	wg.Wait()
	return out
}

func (c *StatusClient) fetchRelayCount(ctx context.Context, mount string) (int, error) {
	body, err := c.get(ctx, "/admin/listclients?mount="+url.QueryEscape(mount), true, maxListClientsBytes)
	if err != nil {
		return 0, err
	}
	return ParseListClients(body)
}

// get reads path from Icecast with the request timeout and a size limit.
func (c *StatusClient) get(ctx context.Context, path string, admin bool, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(c.Timeout, DefaultStatusTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+path, nil)
	if err != nil {
		return nil, err
	}
	if admin {
		req.SetBasicAuth(AdminUser, c.AdminPassword)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", req.URL.Path, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil && int64(len(body)) > limit {
		err = fmt.Errorf("GET %s: answer larger than %d bytes", req.URL.Path, limit)
	}
	return body, err
}

var defaultHTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func (c *StatusClient) httpClient() *http.Client {
	return cmp.Or(c.HTTPClient, defaultHTTPClient)
}

func (c *StatusClient) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default().With("component", "icecast-status")
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
