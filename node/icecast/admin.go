package icecast

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// KillSource disconnects the source of a mount through Icecast's admin
// interface, so that a deleted mount stops at once instead of living on
// until its source goes away. A mount without a source is not an error.
func (s *Server) KillSource(ctx context.Context, mount string) error {
	u := s.cfg.URL + "/admin/killsource?mount=" + url.QueryEscape(mount)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("icecast: killsource %s: %w", mount, err)
	}
	req.SetBasicAuth(AdminUser, s.cfg.AdminPassword)
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("icecast: killsource %s: %w", mount, err)
	}
	resp.Body.Close()
	// Icecast answers 400 "Source does not exist" for a mount without one.
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
		return fmt.Errorf("icecast: killsource %s: %s", mount, resp.Status)
	}
	return nil
}
