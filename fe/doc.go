// Package fe is redirectord, the front-end that runs on every node: it
// keeps a view of the cluster from etcd (mounts, live nodes and their load,
// the master) and serves it as authoritative DNS (fe/dns) and HTTP
// redirects, proxies, playlists and status pages (fe/httpfe, which streams
// through the shared fan-out of fe/fanout, and serves HLS cut from it by
// fe/hls; the sources it forwards feed taps, fe/tap, which the fan-outs
// stream from while no Icecast serves a mount), choosing nodes with the
// load balancer (fe/lb).
package fe
