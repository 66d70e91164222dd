package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"
)

// DefaultName is the short host name, the default --name of the daemons.
func DefaultName() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	short, _, _ := strings.Cut(h, ".")
	return short
}

// DefaultIPs returns the addresses that `hostname -f` resolves to, the
// default --ip of the daemons: the addresses peers and clients use to
// reach this host.
func DefaultIPs(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	fqdn, err := exec.CommandContext(ctx, "hostname", "-f").Output()
	if err != nil {
		return nil, fmt.Errorf("finding this host's name with hostname -f: %w (set --ip)", err)
	}
	name := strings.TrimSpace(string(fqdn))
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w (set --ip)", name, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%s resolves to no address (set --ip)", name)
	}
	return addrs, nil
}

// CheckIPs checks that every --ip value is an IP address.
func CheckIPs(ips []string) error {
	for _, ip := range ips {
		if net.ParseIP(ip) == nil {
			return &UsageError{Err: fmt.Errorf("--ip %q is not an IP address", ip)}
		}
	}
	return nil
}
