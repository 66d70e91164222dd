// Package dns is redirectord's authoritative DNS server for the cluster's
// domain Z. It answers, from the nodes' live status:
//
//   - Z and stream.Z: A/AAAA records of up to Config.MaxRecords healthy
//     nodes in load-balancer order (one address per node), with a short TTL
//     so that clients move off a failed node quickly;
//   - <node-name>.Z: every address of that node in the queried family;
//   - SOA and NS at Z; NXDOMAIN (with SOA) for other names in Z; NOERROR
//     with an empty answer (and SOA) for other types of existing names;
//   - REFUSED for names outside Z and for zone transfers: it is never a
//     resolver and never recurses.
//
// The zone comes from a Zone (see BalancerZone); there are no zone files.
// Handler.Reply, the general path, computes an answer per query with
// miekg/dns; it serves TCP and unusual queries, and computes, once per
// version of a ViewZone, the wire-format answers from which
// Handler.ServeUDP answers the usual UDP queries without allocating.
// Handler is pure and table-tested; Server runs it on UDP (one socket per
// core, batched reads and writes) and TCP. The package is modelled on
// CoreDNS's file plugin and on miekg/dns's server.
package dns
