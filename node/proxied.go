package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"

	"autoradio"
)

// FrontendURL turns the front-end's listen address (redirectord's
// --http-addr, such as ":80" or "192.0.2.10:80") into the URL radiod
// reads it at: a wildcard host is reached on loopback.
func FrontendURL(httpAddr string) (string, error) {
	if httpAddr == "" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		return "", fmt.Errorf("front-end address %q: %w", httpAddr, err)
	}
	switch ip := net.ParseIP(host); {
	case host == "" || (ip != nil && ip.Equal(net.IPv4zero)):
		host = "127.0.0.1"
	case ip != nil && ip.Equal(net.IPv6unspecified):
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// fetchProxied reads the front-end's proxied listeners.
func fetchProxied(ctx context.Context, c *http.Client, frontend string) (*autoradio.ProxiedStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, frontend+autoradio.ProxiedStatusPath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", req.URL, resp.Status)
	}
	var st autoradio.ProxiedStatus
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&st); err != nil {
		return nil, fmt.Errorf("%s: %w", req.URL, err)
	}
	return &st, nil
}

// addProxied counts the front-end's proxied listeners in place of the
// shared connections that Icecast sees for them.
func addProxied(mounts []autoradio.MountStatus, p *autoradio.ProxiedStatus) {
	for i := range mounts {
		pm, ok := p.Mounts[mounts[i].Name]
		if !ok {
			continue
		}
		mounts[i].Listeners = max(mounts[i].Listeners-pm.Upstreams, 0) + pm.Listeners
	}
}
