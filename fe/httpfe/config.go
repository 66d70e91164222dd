package httpfe

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"autoradio"
	"autoradio/fe/authguard"
	"autoradio/fe/hls"
)

// Config configures the HTTP front-end. The zero value of every field but
// Domain means its documented default.
type Config struct {
	// Addr is the address to listen on. Default ":80". Port 0 picks a free
	// port (see Server.Addr).
	Addr string
	// HTTPPort is the front-end port that every node listens on, used in
	// proxy-mode redirects (omitted from the URL when 80). Default: the
	// port of Addr, or the bound port when Addr's port is 0.
	HTTPPort int
	// HTTPSAddr is the address to serve HTTPS on, the same Handler over
	// TLS; empty (the default) serves no HTTPS. Port 0 picks a free port
	// (see Server.HTTPSAddr).
	HTTPSAddr string
	// HTTPSPort is the HTTPS port that every node listens on, used in the
	// redirects of listeners that came over HTTPS (omitted when 443).
	// Default: the port of HTTPSAddr, or the bound port.
	HTTPSPort int
	// GetCertificate gives the certificate of each TLS handshake (see
	// package fe/tlscert); required with HTTPSAddr.
	GetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// RedirectPages sends plain-HTTP requests for the status page (/) to
	// the same page over HTTPS. Streams, playlists and sources stay on
	// plain HTTP, for players that speak nothing else.
	RedirectPages bool
	// HSTS, when positive, is the max-age of a Strict-Transport-Security
	// header on every HTTPS answer. Default 0: none, since browsers would
	// then refuse the plain-HTTP streams of the same names.
	HSTS time.Duration
	// Domain is the cluster's domain (e.g. "radio.example.com"). Playlists
	// point at it when the request's Host header is unusable. Required.
	Domain string
	// DisableProxy turns proxy mode off (--enable-icecast-proxy=false):
	// listeners are redirected to a node's Icecast port and PUT sources
	// get a 307 to the master's Icecast.
	DisableProxy bool
	// LocalIcecast is host:port of this node's Icecast, which /_stream/
	// streams from. Default DefaultLocalIcecast.
	LocalIcecast string
	// NodeName is this node's name, as radiod publishes it. With it, a
	// proxied stream comes from another node's Icecast while the local
	// one does not serve the mount live (it restarts, its relay is not up
	// yet or stalls, its node steps aside for a handover), and back; it
	// leaves another node that stops serving it live the same way. The
	// cluster view is checked every fanout.DefaultProbeInterval. Empty:
	// only from the local Icecast.
	NodeName string

	// ReadHeaderTimeout bounds the time to read a request's headers.
	// Default 10s.
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request. Default 60s.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the size of a request's headers. Default 16 KiB.
	MaxHeaderBytes int
	// ShutdownTimeout bounds how long Run waits for requests in flight
	// once its context is done. Default 5s.
	ShutdownTimeout time.Duration

	// DialTimeout bounds connecting to an Icecast (local or master).
	// Default 5s.
	DialTimeout time.Duration
	// ResponseTimeout bounds the wait for an Icecast's response headers.
	// Default 10s.
	ResponseTimeout time.Duration
	// StreamBufferSize is the size of the copy buffer of each forwarded
	// source, taken from a pool. Default 4 KiB.
	StreamBufferSize int

	// Proxied listeners of a mount share one connection to the local
	// Icecast and a window of its recent data (see package fe/fanout).
	//
	// StreamQueueSize is the size of each mount's window: a listener that
	// falls this far behind is disconnected. Default 512 KiB (32 s of
	// 128 kbit/s), like Icecast's queue-size.
	StreamQueueSize int
	// StreamBurstSize is how much recent data a new listener gets at once,
	// so that playback starts immediately. Default 64 KiB, like Icecast's
	// burst-size; at most half of StreamQueueSize.
	StreamBurstSize int
	// StreamWriteTimeout disconnects a listener that accepts nothing for
	// this long. Default 10s.
	StreamWriteTimeout time.Duration
	// StreamStallTimeout is how long a proxied stream's Icecast may send
	// nothing before the stream is taken from its source itself, at the
	// front-end that forwards it (a tap, package fe/tap), until an Icecast
	// serves it under a new master; below Icecast's source-timeout (4 s
	// here), so that listeners hear no fallback. Default
	// fanout.DefaultStallTimeout (2.5 s).
	StreamStallTimeout time.Duration
	// StreamGrace is how long a mount's connection to Icecast stays open
	// after its last listener leaves. Default 10s.
	StreamGrace time.Duration
	// StreamReconnect is how long a lost connection to Icecast is retried
	// before the mount's listeners are disconnected. Default 5s.
	StreamReconnect time.Duration
	// MaxProxiedListeners bounds the proxied listeners of all mounts;
	// more get 503. 0 (the default) means the MaxListeners that this node
	// publishes (radiod --max-listeners), unbounded when it publishes
	// none; negative means no limit.
	MaxProxiedListeners int
	// SourceIdleTimeout closes a forwarded source that sends nothing for
	// this long; every byte received restarts it. Default 10s (Icecast
	// itself drops a silent source after its source-timeout, 4 s as
	// radiod configures it).
	SourceIdleTimeout time.Duration
	// SourceHold bounds how long a source with the mount's credentials
	// is held while the master's Icecast answers them 401, as it does
	// until it has applied the mount's configuration (a mount just
	// created, a master just elected): the front-end tries the master
	// again, with short waits, and only then passes the 401 on, so that
	// source clients that do not retry (ffmpeg, GStreamer) see a slower
	// 200. Default 10s; negative: no hold.
	SourceHold time.Duration
	// SourceResume bounds how long a source that Icecast accepted is
	// held when its master changes, or the master's Icecast goes away:
	// the front-end keeps the source's connection and keeps reading it,
	// tries the master of the moment (which refuses it until it has
	// applied the mount) with short waits, and replays what the source
	// sent meanwhile; after that, or when the new master's Icecast
	// answers otherwise, the source's connection is closed. MP3, ADTS
	// and Ogg sources only: others are closed at once, as they are
	// with a negative SourceResume. Default 30s.
	SourceResume time.Duration
	// SourceTee bounds how long a source moved to a new master is still
	// fed to the deposed master's Icecast (make before break): when the
	// master changes, the front-end goes on writing the source to the
	// old master's Icecast while the new one does not take it yet, and
	// after the move too, until the old master closes the connection
	// (its radiod lets go of the source once the new master serves the
	// mount and no node relays the old one), a write to it fails or
	// does not fit in 100 ms, or this elapses; the old master's
	// listeners and relays hear no gap meanwhile. Only when the master
	// changed: an Icecast lost, or failing a write, is gone. Default
	// 15s; negative: the old master's connection is closed at once.
	SourceTee time.Duration
	// SourceBacklog bounds what a held source keeps, in the stream's own
	// time: beyond it, its oldest audio is dropped, a frame or page at a
	// time, so that the new master gets the most recent audio; at most
	// 2 MiB whatever the bit rate. Default 10s.
	SourceBacklog time.Duration
	// RetryAfter is the Retry-After of 503 answers. Default 5s.
	RetryAfter time.Duration
	// SourceGuard limits source password guessing: an address (an IPv6
	// /64) whose forwarded sources Icecast refuses with 401 too often is
	// answered 429 for a while, without Icecast being asked. Its zero
	// value means authguard's defaults: 10 failures within a minute lock
	// an address out for a minute, each further lockout twice as long, up
	// to an hour.
	SourceGuard authguard.Config
	// MetadataRate is how many title updates per second a mount may
	// send through /admin/metadata after a burst of MetadataBurst; more
	// get 429. Defaults 2 and 5.
	MetadataRate  float64
	MetadataBurst int
	// HLS configures the HLS of MP3 and AAC mounts (package fe/hls):
	// segment duration, playlist length, session timeout.
	HLS hls.Config
	// HistoryInterval is the time between samples of the status page's
	// listener history, of which it keeps 1440. Default 1m: 24 hours.
	HistoryInterval time.Duration
}

// Defaults.
const (
	DefaultAddr              = ":80"
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxHeaderBytes    = 16 << 10
	DefaultShutdownTimeout   = 5 * time.Second
	DefaultDialTimeout       = 5 * time.Second
	DefaultResponseTimeout   = 10 * time.Second
	DefaultStreamBufferSize  = 4 << 10
	DefaultSourceIdleTimeout = 10 * time.Second
	DefaultSourceHold        = 10 * time.Second
	DefaultSourceResume      = 30 * time.Second
	DefaultSourceBacklog     = 10 * time.Second
	DefaultSourceTee         = 15 * time.Second
	DefaultRetryAfter        = 5 * time.Second
	DefaultStreamQueueSize   = 512 << 10
	DefaultStreamBurstSize   = 64 << 10
	DefaultStreamWrite       = 10 * time.Second
	DefaultStreamGrace       = 10 * time.Second
	DefaultStreamReconnect   = 5 * time.Second
	DefaultMetadataRate      = 2
	DefaultMetadataBurst     = 5
)

// DefaultLocalIcecast is where the node's own Icecast listens by default.
var DefaultLocalIcecast = net.JoinHostPort("127.0.0.1", strconv.Itoa(autoradio.DefaultIcecastPort))

// withDefaults returns c with defaults filled in, or an error naming the
// first invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.Domain == "" {
		return c, errors.New("httpfe: config: Domain is required")
	}
	c.Addr = cmp.Or(c.Addr, DefaultAddr)
	c.LocalIcecast = cmp.Or(c.LocalIcecast, DefaultLocalIcecast)
	c.ReadHeaderTimeout = cmp.Or(c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, DefaultIdleTimeout)
	c.MaxHeaderBytes = cmp.Or(c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	c.ShutdownTimeout = cmp.Or(c.ShutdownTimeout, DefaultShutdownTimeout)
	c.DialTimeout = cmp.Or(c.DialTimeout, DefaultDialTimeout)
	c.ResponseTimeout = cmp.Or(c.ResponseTimeout, DefaultResponseTimeout)
	c.StreamBufferSize = cmp.Or(c.StreamBufferSize, DefaultStreamBufferSize)
	c.SourceIdleTimeout = cmp.Or(c.SourceIdleTimeout, DefaultSourceIdleTimeout)
	c.SourceHold = cmp.Or(c.SourceHold, DefaultSourceHold)
	c.SourceResume = cmp.Or(c.SourceResume, DefaultSourceResume)
	c.SourceBacklog = cmp.Or(c.SourceBacklog, DefaultSourceBacklog)
	c.SourceTee = cmp.Or(c.SourceTee, DefaultSourceTee)
	c.RetryAfter = cmp.Or(c.RetryAfter, DefaultRetryAfter)
	c.StreamQueueSize = cmp.Or(c.StreamQueueSize, DefaultStreamQueueSize)
	c.StreamBurstSize = cmp.Or(c.StreamBurstSize, DefaultStreamBurstSize)
	c.StreamWriteTimeout = cmp.Or(c.StreamWriteTimeout, DefaultStreamWrite)
	c.StreamGrace = cmp.Or(c.StreamGrace, DefaultStreamGrace)
	c.StreamReconnect = cmp.Or(c.StreamReconnect, DefaultStreamReconnect)
	c.MetadataRate = cmp.Or(c.MetadataRate, DefaultMetadataRate)
	c.MetadataBurst = cmp.Or(c.MetadataBurst, DefaultMetadataBurst)
	if c.StreamBurstSize > c.StreamQueueSize/2 {
		return c, fmt.Errorf("httpfe: config: StreamBurstSize %d is more than half of StreamQueueSize %d",
			c.StreamBurstSize, c.StreamQueueSize)
	}
	if _, _, err := net.SplitHostPort(c.LocalIcecast); err != nil {
		return c, fmt.Errorf("httpfe: config: LocalIcecast %q: %w", c.LocalIcecast, err)
	}
	if c.HTTPPort == 0 {
		port, err := addrPort(c.Addr, 80)
		if err != nil {
			return c, fmt.Errorf("httpfe: config: Addr %q: %w", c.Addr, err)
		}
		c.HTTPPort = port
	}
	if c.HTTPSAddr != "" {
		if c.GetCertificate == nil {
			return c, errors.New("httpfe: config: HTTPSAddr needs GetCertificate")
		}
		if c.HTTPSPort == 0 {
			port, err := addrPort(c.HTTPSAddr, 443)
			if err != nil {
				return c, fmt.Errorf("httpfe: config: HTTPSAddr %q: %w", c.HTTPSAddr, err)
			}
			c.HTTPSPort = port
		}
	}
	if c.HTTPSPort < 0 || c.HTTPSPort > 65535 {
		return c, fmt.Errorf("httpfe: config: HTTPSPort %d out of range", c.HTTPSPort)
	}
	if c.HTTPPort < 0 || c.HTTPPort > 65535 {
		return c, fmt.Errorf("httpfe: config: HTTPPort %d out of range", c.HTTPPort)
	}
	return c, nil
}

// addrPort returns the port of a listen address, def when it has none;
// 0 means "pick one".
func addrPort(addr string, def int) (int, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	if port == "" {
		return def, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("bad port %q", port)
	}
	return n, nil
}
