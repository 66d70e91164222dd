// Package acme obtains and renews the cluster's HTTPS certificate from an
// ACME certificate authority (RFC 8555), answering its DNS-01 challenges
// with the cluster's own DNS, and shares it through etcd.
//
// Every front-end runs a Manager. All of them follow the keys under
// autoradio.ACMEPrefix: they serve the certificate stored there (through a
// tlscert.Store) and, while an order is pending, the TXT values of its
// challenges (Manager.Challenges, which their DNS asks). One of them at a
// time, the winner of an etcd election, orders: when there is no
// certificate, when it lacks a wanted name, or when two thirds of its
// lifetime have passed, backing off after failures. Its challenge records
// are bound to its lease, so that a front-end that dies in the middle of an
// order leaves none behind; the next winner starts over, and the
// certificate already stored is served meanwhile.
//
// The protocol is golang.org/x/crypto/acme's.
package acme
