// Package loadgen is a load client for streaming servers: it opens many
// concurrent listeners of one URL, ramping them up at a given rate, keeps
// them reading for a duration, and reports what each listener received
// (bytes/s per listener, time to first byte, disconnects, errors) and,
// optionally, what serving them cost the server processes (CPU time and
// resident memory per listener, read from /proc).
//
// cmd/radiobench is its command line; scripts/bench drives it against
// autoradio and the reference servers.
package loadgen
