// Package hls serves a mount's stream as HTTP Live Streaming: packed-audio
// segments (raw MP3 or ADTS frames, each segment starting on a frame and
// carrying the ID3 timestamp that RFC 8216 requires of packed audio) cut
// from the front-end's shared feed of the mount, and a sliding live media
// playlist of them.
//
// Segments are cut at wall-clock boundaries: segment N holds the frames
// whose live time falls in [N·T, (N+1)·T), T the target duration, counted
// from the Unix epoch. A frame's live time is estimated from when the
// stream's data arrives (see clock), so every node, receiving the same live
// stream within a fraction of a second, numbers and stamps the same audio
// alike, and a player that moves from one node to another neither replays
// nor skips more than the frames at a segment's edges.
//
// Listeners are sessions: a token in the playlist and segment URLs, live
// while it fetches within SessionTimeout. A mount's segmenter runs while
// it has sessions, and stops Idle after the last request.
//
// Files, one per concept:
//
//	config.go     Config
//	hls.go        HLS: the segmenters by mount, and the HTTP entry points
//	stream.go     a mount's segmenter: its feed and its recent segments
//	cutter.go     frames into segments, at wall-clock boundaries
//	clock.go      the live time of the stream's audio
//	id3.go        the timestamp tag at the start of each segment
//	playlist.go   media and multivariant playlists
//	session.go    sessions by token
//	metrics.go    Prometheus metrics
package hls
