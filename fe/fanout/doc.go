// Package fanout shares one connection to a stream's upstream (the local
// Icecast) among all the listeners of a mount.
//
// The connection (a feed) opens with a mount's first listener and closes a
// grace period after the last one leaves. A feed keeps the recent stream in
// a window of fixed-size chunks that all its listeners write from; each
// listener has one goroutine and no buffer of its own. A listener that
// falls a whole window behind, or whose writes block for longer than the
// write timeout, is disconnected.
//
// While the local Icecast does not serve the mount live, a feed reads
// another node's, and it leaves a node that stops serving it live (one
// stepping aside for a handover): it opens the new upstream before it
// closes the old one, and splices the two streams for its listeners.
//
// When the master dies or is cut off, the relays of every other node
// stall or play the fallback until a new master serves the mount. A feed
// whose upstream sends nothing for StallTimeout, or no longer serves the
// mount live while no other Icecast does, streams it meanwhile from its
// source itself, at a front-end's tap (Taps, package fe/tap), and goes
// back to an Icecast once one serves the mount under a master elected
// since (Healthy).
//
// A new listener starts about a burst back from the live end, at a point
// where its player can decode: an Ogg page (after the stream's header
// pages), an MP3 or AAC (ADTS) frame, or an Icy metadata block. The
// listener that opens a feed too: Icecast's first bytes need not start a
// frame, so it waits for the data that shows where one starts.
//
// Files, one per concept:
//
//	config.go     Config
//	registry.go   Fanout: the feeds by mount, their listener counts and grace timers
//	listener.go   Serve, the entry point: takes a listener's connection until it ends
//	upstream.go   a feed's connection to the upstream, reconnected when lost
//	move.go       a feed's moves between the local Icecast and other nodes', make-before-break
//	tap.go        a feed's stalls, and its moves to and from a source's tap
//	http.go       HTTPUpstream, the upstream of redirectord: an Icecast over HTTP
//	window.go     the ring window of recent data that listeners read
//	head.go       the response head that listeners get, with CORS
//	join.go       where a listener may join, by content type
//	ogg.go, mp3.go, adts.go, icy.go   join points of each format
//	metrics.go    Prometheus metrics
package fanout
