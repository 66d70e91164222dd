// Package tap keeps the recent bytes of each source that the front-end
// forwards to the master, so that the fan-out can stream a mount from its
// source itself while no Icecast serves it live: when the master's host
// dies or is cut off, the front-end holds the source until a new master
// takes it, and the relays of every other node stall meanwhile.
//
// A Tap is fed the bytes the forward reads from its source (de-chunked:
// the ones Icecast gets), with the points where a decoder can start; it
// keeps them in a bounded ring and never blocks its writer. A Reader
// starts at a join point a little back from the live end, so that a
// listener's stream can be spliced onto it, then follows it live; one
// that falls a ring behind ends.
//
// Files:
//
//	set.go     Set: the taps of this front-end, by mount
//	tap.go     Tap: one source's ring of recent bytes and join points
//	reader.go  Reader: one reader of a tap
//	http.go    Serve: a tap over HTTP, for the other front-ends
package tap
