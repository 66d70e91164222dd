// Package httpfe is redirectord's HTTP front-end. It sends listeners to the
// node chosen by the load balancer, streams mounts from the local Icecast
// (proxy mode), forwards sources byte for byte (a chunked one de-chunked) to
// the master's Icecast, serves .m3u/.pls playlists and a status page.
//
// It only ever connects to addresses it got from the Cluster (node and master
// addresses) or from its Config (the local Icecast): no Host header, path or
// query can make it connect anywhere else.
//
// Routes (see README.md, "redirectord"):
//
//	GET|HEAD /<mount>              302 to a node (proxy mode: its /_stream/<mount>)
//	GET|HEAD /_stream/<mount>      the mount, streamed from the local Icecast
//	                               (one shared connection per mount, package fe/fanout)
//	GET|HEAD /_tap/<mount>         a source forwarded here, for the other
//	                               front-ends' fan-outs while no Icecast
//	                               serves it (package fe/tap); loopback and
//	                               live cluster nodes only, else 404
//	OPTIONS  /<mount>, /_stream/<mount>   CORS preflight (web players)
//	SOURCE|PUT /<mount>, /_stream/<mount>
//	                               a source, forwarded to the master's Icecast
//	                               (held while the master does not know the
//	                               mount yet, see Config.SourceHold; moved
//	                               to a new master without reconnecting, see
//	                               Config.SourceResume, and still fed to the
//	                               old one until it lets go, Config.SourceTee)
//	GET|HEAD /<mount>.m3u, .pls    playlists
//	GET|HEAD /<mount>.m3u8         HLS multivariant playlist: the load balancer's
//	                               node first, the other live nodes redundant
//	GET|HEAD /_hls/<mount>/index.m3u8, /_hls/<mount>/<n>.mp3 (.aac)
//	                               HLS media playlist and segments, cut here
//	                               from the shared stream (package fe/hls)
//	GET|HEAD /, /_status.json      status page, as HTML and JSON, and its
//	         /_history.json, /_nowplaying.json, /_nowplaying/<mount>, /_events
//	                               listener history, now playing, event stream
//	                               (package fe/statuspage)
//	GET|HEAD /_proxied.json        this front-end's proxied listeners per mount
//	GET /admin/metadata?mount=/<mount>&mode=updinfo&song=...
//	                               a title update, with the mount's source
//	                               credentials, passed on to the master's Icecast
//
// With the proxy disabled (Config.DisableProxy) listeners are redirected to
// the node's Icecast port and a PUT source gets a 307 to the master's
// Icecast. A legacy SOURCE request cannot follow a redirect, and Icecast
// would not de-chunk a chunked PUT, so both are still forwarded to the
// master in that mode: refusing them would break source clients without
// making anything safer, since forwarding only ever connects to the master.
package httpfe
