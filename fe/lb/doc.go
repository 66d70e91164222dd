// Package lb is redirectord's load balancer: given the status every node
// publishes in etcd, it decides which node should serve the next listener.
//
// It keeps only nodes whose Icecast is up, that carry the mount with a live
// source, and that are under their listener and bandwidth limits as last
// reported. It scores them by spare capacity, measured in listeners (see
// score.go), and counts the listeners it has itself sent to each node since
// that node's last status report, so that a burst of new listeners arriving
// between two reports spreads out instead of landing on the emptiest node.
//
// Drained nodes (drained by an operator, or stopping) get listeners only
// when no other node could take them: serving beats refusing.
//
// The package does no I/O: the caller feeds it statuses with Update and asks
// with Pick (HTTP redirects) or Rank (DNS answers).
package lb
