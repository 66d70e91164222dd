// Package splice joins network connections byte for byte, and keeps track
// of the joined connections so that their owner can end them all. It is
// shared by node (node/relayproxy, which carries Icecast's relays to the
// master) and fe (fe/httpfe, which forwards sources to the master), which
// may not import each other.
package splice
