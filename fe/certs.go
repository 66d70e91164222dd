package fe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"

	"autoradio/fe/acme"
	"autoradio/fe/tlscert"
)

// newCerts sets up the HTTPS certificate: from ACME when configured,
// else from files. A certificate that is missing or does not load is
// logged, not fatal: plain HTTP serves meanwhile.
func (f *Frontend) newCerts(cfg Config, etcd *clientv3.Client, reg prometheus.Registerer) error {
	useACME := cfg.ACME.Directory != ""
	hasFiles := cfg.TLSFiles.Cert != "" || cfg.TLSFiles.Key != ""
	switch {
	case useACME && hasFiles:
		return errors.New("HTTPS: certificate files and ACME exclude each other")
	case !useACME && (cfg.TLSFiles.Cert == "" || cfg.TLSFiles.Key == ""):
		return errors.New("HTTPS needs a certificate and a key file, or ACME")
	}
	certs, err := tlscert.NewStore(reg, cfg.Logger)
	if err != nil {
		return err
	}
	f.certs = certs
	if !useACME {
		files := cfg.TLSFiles
		_ = files.Load(certs)
		f.runCerts = func(ctx context.Context) error { return files.Watch(ctx, certs) }
		return nil
	}
	ac := cfg.ACME
	ac.NodeName, ac.Logger = cfg.NodeName, cfg.Logger
	ac.Names = f.certNames(cfg.Domain, cfg.ACMENames)
	ac.Propagated = f.propagated
	if f.acme, err = acme.New(ac, etcd, certs); err != nil {
		return err
	}
	f.runCerts = f.acme.Run
	return nil
}

// certNames returns the names the certificate must cover: names if
// given, else the domain, stream.<domain> and every node's name in it,
// nil while no node is known.
func (f *Frontend) certNames(domain string, names []string) func() []string {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if len(names) > 0 {
		return func() []string { return names }
	}
	return func() []string {
		nodes := f.cluster.Nodes()
		if len(nodes) == 0 {
			return nil
		}
		out := []string{domain, "stream." + domain}
		for _, n := range nodes {
			if n.Name != "" && !strings.Contains(n.Name, ".") {
				out = append(out, strings.ToLower(n.Name)+"."+domain)
			}
		}
		slices.Sort(out[2:])
		return slices.Compact(out)
	}
}

// propagationTimeout bounds the wait for a challenge record to be served
// by every node; silentAfter is how long a node's DNS may not answer at
// all before it is taken for down and no longer waited for.
const (
	propagationTimeout = time.Minute
	silentAfter        = 3 * time.Second
)

// propagated returns once every known node's DNS (on this node's DNS
// port, which all nodes share) answers value among the TXT records of
// name, as the certificate authority may ask any of them. A node whose
// DNS does not answer at all is down, and cannot be asked either.
func (f *Frontend) propagated(ctx context.Context, name, value string) error {
	_, port, err := net.SplitHostPort(f.dns.LocalAddr())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, propagationTimeout)
	defer cancel()
	for _, n := range f.cluster.Nodes() {
		if len(n.IPs) == 0 {
			continue
		}
		server := net.JoinHostPort(n.IPs[0], port)
		served, err := waitTXT(ctx, server, name, value)
		if err != nil {
			return fmt.Errorf("%s's DNS (%s): %w", n.Name, server, err)
		}
		if !served {
			f.log.Warn("a node's DNS does not answer; not waiting for it to serve the challenge", "node", n.Name, "server", server)
		}
	}
	return nil
}

// waitTXT asks server for the TXT records of name until value is among
// them (true), or the server has not answered for silentAfter (false).
func waitTXT(ctx context.Context, server, name, value string) (bool, error) {
	c := &mdns.Client{Timeout: time.Second}
	q := new(mdns.Msg)
	q.SetQuestion(name, mdns.TypeTXT)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	answered := time.Now()
	for {
		r, _, err := c.ExchangeContext(ctx, q, server)
		if err == nil {
			answered = time.Now()
			for _, rr := range r.Answer {
				if txt, ok := rr.(*mdns.TXT); ok && strings.Join(txt.Txt, "") == value {
					return true, nil
				}
			}
		} else if time.Since(answered) > silentAfter {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("TXT %s not served: %w", name, errors.Join(ctx.Err(), err))
		case <-t.C:
		}
	}
}
