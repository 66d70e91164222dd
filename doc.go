// Package autoradio holds the cluster's shared data model: the Mount and
// NodeStatus records stored in etcd, their validation, the etcd key layout,
// and a small typed client over etcd. It contains no daemon logic; radiod,
// redirectord and radioctl are built on top of it.
package autoradio
