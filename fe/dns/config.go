package dns

import (
	"cmp"
	"fmt"
	"log/slog"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// Config configures a Handler. Only Domain is required.
type Config struct {
	// Domain is the zone Z the handler is authoritative for, e.g.
	// "radio.example.com" (a trailing dot is optional). Required.
	Domain string
	// Nameservers are the zone's NS names (--nameservers); the first is
	// the SOA's mname. A name without a dot is relative to Domain ("ns1"
	// is "ns1.Z."); any other name is absolute. A name inside Z should be
	// a node's name, since only node names resolve there. When empty, the
	// nameservers are the nodes themselves, <node>.Z for every healthy
	// node (sorted by name): right when every node runs redirectord and
	// the parent zone delegates to them.
	Nameservers []string
	// TTL of the A/AAAA records (--dns-ttl). Default 5s: a resolver may
	// keep sending clients to a dead node for this long, so failover
	// needs it short; the answers are cheap to recompute.
	TTL time.Duration
	// NegativeTTL is how long resolvers may cache "no such name" and
	// "no such record" answers: the SOA's TTL and minimum field (RFC
	// 2308). Default TTL, so that a node that comes back, or the first
	// healthy node after an outage, is visible as quickly.
	NegativeTTL time.Duration
	// NSTTL is the TTL of the NS records and of the SOA when queried
	// directly, if Nameservers is set. Default 1h. Without Nameservers
	// the NS set follows the nodes and uses TTL instead.
	NSTTL time.Duration
	// MaxRecords caps the A/AAAA records answered for Z and stream.Z
	// (--dns-max-records). Default 5.
	MaxRecords int
	// MaxUDPSize caps the EDNS0 UDP payload size the handler answers
	// with, whatever the client offers. Default 1232 (the DNS Flag Day
	// 2020 value: no IP fragmentation on common paths).
	MaxUDPSize int
	// Challenges, if set, gives the TXT values of a pending ACME DNS-01
	// challenge for a lower-case "_acme-challenge." name in the zone
	// (with its trailing dot), none when there is no such challenge.
	Challenges func(name string) []string
	// Refresh is how long the precomputed UDP answers of a ViewZone
	// (see Handler.ServeUDP) serve before they are computed again, to
	// follow the load balancer's order as listeners arrive; they are also
	// computed again whenever the zone's version changes. Default 1s.
	Refresh time.Duration
	// Now gives the time for the SOA serial. Default time.Now.
	Now func() time.Time
	// Logger receives diagnostics. Default slog.Default().
	Logger *slog.Logger
}

// Defaults for zero Config fields.
const (
	DefaultTTL        = 5 * time.Second
	DefaultNSTTL      = time.Hour
	DefaultMaxRecords = 5
	DefaultMaxUDPSize = 1232
	DefaultRefresh    = time.Second
)

// normalize checks cfg and fills in defaults.
func (cfg Config) normalize() (Config, error) {
	d := strings.ToLower(mdns.Fqdn(strings.TrimSpace(cfg.Domain)))
	if d == "." || !validName(d) {
		return cfg, fmt.Errorf("dns: bad domain %q", cfg.Domain)
	}
	cfg.Domain = d
	ns, err := qualify(cfg.Nameservers, d)
	if err != nil {
		return cfg, err
	}
	cfg.Nameservers = ns
	// A negative value, meaningless for any of these, takes the default
	// too: max(v, 0) makes it zero for cmp.Or.
	cfg.TTL = cmp.Or(max(cfg.TTL, 0), DefaultTTL)
	cfg.NegativeTTL = cmp.Or(max(cfg.NegativeTTL, 0), cfg.TTL)
	cfg.NSTTL = cmp.Or(max(cfg.NSTTL, 0), DefaultNSTTL)
	cfg.Refresh = cmp.Or(max(cfg.Refresh, 0), DefaultRefresh)
	cfg.MaxRecords = cmp.Or(max(cfg.MaxRecords, 0), DefaultMaxRecords)
	cfg.MaxUDPSize = max(cmp.Or(max(cfg.MaxUDPSize, 0), DefaultMaxUDPSize), mdns.MinMsgSize)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = cfg.Logger.With("component", "dns")
	return cfg, nil
}

// qualify turns nameserver names into lower-case FQDNs: a name without a
// dot is relative to the zone.
func qualify(names []string, zone string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		if !strings.Contains(strings.TrimSuffix(n, "."), ".") && !strings.HasSuffix(n, ".") {
			n += "." + zone
		}
		n = mdns.Fqdn(n)
		if !validName(n) {
			return nil, fmt.Errorf("dns: bad nameserver name %q", n)
		}
		out = append(out, n)
	}
	return out, nil
}

func validName(n string) bool {
	_, ok := mdns.IsDomainName(n)
	return ok && !strings.ContainsAny(n, " \t*")
}

// seconds converts a TTL to the wire's uint32 seconds.
func seconds(d time.Duration) uint32 { return uint32(d / time.Second) }
