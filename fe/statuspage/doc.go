// Package statuspage is the front-end's status page and the feeds beside
// it: GET / (server-rendered HTML that updates itself from an event
// stream when JavaScript runs), /_status.json, the listener history
// (/_history.json, sampled by every front-end and seeded from a peer at
// start-up), now-playing JSON per mount (/_nowplaying.json and
// /_nowplaying/<mount>) and a Server-Sent Events stream of title and
// listener changes (/_events), with CORS for stations' own sites.
//
// Nothing it shows is a credential: mounts are copied field by field, and
// relay URLs (which may carry a password) are reduced to a flag.
package statuspage
