// Package icecast owns a node's Icecast 2.4 server. Server runs the
// process, writes its configuration and has it reloaded, reads its status
// and restarts it when it stops applying its configuration; the rest of
// the package generates that configuration, prepares the web root (stats
// stylesheet, silence fallbacks) and parses the status.
package icecast

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"autoradio"
)

// Defaults used by Render for zero fields of Params.
const (
	DefaultPort         = autoradio.DefaultIcecastPort
	DefaultMaxListeners = 1000
	DefaultQueueSize    = 512 * 1024
	DefaultBurstSize    = 64 * 1024
	// DefaultSourceTimeout is short: a stalled source (its link to the
	// master cut) keeps its mount, without the fallback, and refuses its
	// own reconnection, until this has passed. Icecast's default is 10 s.
	DefaultSourceTimeout        = 4 * time.Second
	DefaultHeaderTimeout        = 15 * time.Second
	DefaultClientTimeout        = 30 * time.Second
	DefaultMasterUpdateInterval = time.Second
	DefaultLogLevel             = 2 // Icecast: 1 error, 2 warn, 3 info, 4 debug
	DefaultWebRoot              = "/usr/share/icecast2/web"
	DefaultAdminRoot            = "/usr/share/icecast2/admin"

	// AdminUser is the Icecast admin user name; the password is per node.
	AdminUser = "admin"
	// RelayUser is the user name of Icecast's master/slave stream-list
	// protocol, which autoradio does not use; its password is random.
	RelayUser = "relay"

	// sourceMargin is added to the count of mounts and live silence
	// mounts in <sources>: the silence files (which become sources of
	// their own), plus some spare room.
	sourceMargin = 12
	// clientMargin is added to <clients> for sources, status polls and
	// admin requests, which all take a client slot.
	clientMargin = 64
)

// Params is everything Render needs to write one node's Icecast config.
// Zero numeric and path fields take the defaults above.
type Params struct {
	// NodeName is the node's name; it becomes Icecast's <hostname>, which
	// Icecast shows in listen URLs, unless Hostname is set.
	NodeName string
	// Hostname overrides NodeName as <hostname>.
	Hostname string
	// ListenIPs are the addresses Icecast binds to, one <listen-socket>
	// each. Empty means all addresses.
	ListenIPs []string
	// Port is the Icecast HTTP port on every ListenIP.
	Port int
	// MaxListeners is how many listeners the node serves. <clients> is
	// larger: sources, status polls and (on the master) relay connections
	// of other nodes also take client slots.
	MaxListeners int
	// RelayNodes is, on the master, how many other nodes relay every
	// mount from it; each takes one client slot per mount.
	RelayNodes int

	// IsMaster makes this node the one sources connect to. Otherwise it
	// relays every mount from MasterIP:MasterPort.
	IsMaster   bool
	MasterIP   string
	MasterPort int

	// Mounts are the cluster's mounts. Render sorts a copy by name.
	Mounts []*autoradio.Mount
	// LowBurstMounts lists mounts read by a transcoder: they get a burst
	// of 0 so that the transcoder runs close to live (see BurstSize).
	LowBurstMounts []string

	// AdminPassword is the node's random Icecast admin password. It is
	// also the global source password, so that no mount can be created by
	// anyone who does not already hold admin rights.
	AdminPassword string
	// RelayPassword is the node's random <relay-password>.
	RelayPassword string

	// BaseDir is Icecast's <basedir> (radiod's state dir); LogDir and
	// PIDFile default to BaseDir and BaseDir/icecast.pid. WebRoot and
	// AdminRoot default to the Debian package's directories; the Server
	// sets WebRoot from ServerConfig.WebRoot, a directory made by
	// InstallWebroot.
	BaseDir   string
	LogDir    string
	PIDFile   string
	WebRoot   string
	AdminRoot string

	// User and Group are set in <changeowner> when Icecast is started as
	// root (Icecast refuses to run as root otherwise). Empty: omitted.
	User  string
	Group string

	// BurstSize is the data (bytes) sent at once to a new listener so that
	// players start fast. A reader of a low-bitrate mount (a transcoder)
	// stays BurstSize/bitrate behind live for ever: 64 KB of a 16 kbit/s
	// stream is 32 s, hence LowBurstMounts.
	BurstSize int
	// QueueSize is how far (bytes) a listener may lag before it is dropped.
	QueueSize int
	// SourceTimeout is how long a silent source keeps its mount.
	SourceTimeout time.Duration
	// HeaderTimeout bounds the reading of a request's headers.
	HeaderTimeout time.Duration
	// MasterUpdateInterval is how often Icecast's slave thread retries
	// relays that failed (Icecast's default of 120 s is far too slow).
	MasterUpdateInterval time.Duration
	// LogLevel is Icecast's log level (1 error .. 4 debug).
	LogLevel int

	// ConfigID, when not 0, is written into <location>, which Icecast
	// shows in its status (Status.ConfigID) once it has read the config:
	// what tells radiod that a reload was applied. 0: none.
	ConfigID uint64
}

// locationConfig introduces the config ID in <location>.
const locationConfig = ", config "

func location(node string, id uint64) string {
	if id == 0 {
		return "autoradio node " + node
	}
	return "autoradio node " + node + locationConfig + strconv.FormatUint(id, 10)
}

// relayConnectTimeout is how long Icecast 2.4 waits for the TCP
// connection of a relay (hard-coded in its slave.c).
const relayConnectTimeout = 10 * time.Second

// MaxReloadDelay is the longest a working Icecast takes to apply a
// reload, given the config's header timeout (0: the default). Its slave
// thread rereads the config file within a second of SIGHUP, but it can
// be held before that by the relays it replaces, each of which may still
// be connecting (relayConnectTimeout) then waiting for its master's
// answer (the header timeout).
func MaxReloadDelay(headerTimeout time.Duration) time.Duration {
	const loop, margin = time.Second, 2 * time.Second
	return loop + relayConnectTimeout + cmp.Or(headerTimeout, DefaultHeaderTimeout) + margin
}

// ReplacesRelays reports whether Icecast, going from the config for old
// to the one for new, stops or re-points a relay. Such a reload waits for
// the relay's thread (see MaxReloadDelay), and deadlocks Icecast 2.4 when
// that relay is still connecting and then fails.
func ReplacesRelays(old, new Params) bool {
	old.applyDefaults()
	before, err := old.build()
	if err != nil {
		return true
	}
	new.applyDefaults()
	after, err := new.build()
	if err != nil {
		return true
	}
	return replacesRelays(before, after)
}

// replacesRelays is ReplacesRelays for built configs.
func replacesRelays(before, after *xmlConfig) bool {
	next := make(map[string]xmlRelay, len(after.Relays))
	for _, r := range after.Relays {
		next[r.LocalMount] = r
	}
	for _, r := range before.Relays {
		if now, ok := next[r.LocalMount]; !ok || now != r {
			return true
		}
	}
	return false
}

// Render returns the Icecast configuration for p. The output is
// deterministic: the same Params give the same bytes, so that radiod can
// reload Icecast only when the config really changed.
func Render(p Params) ([]byte, error) {
	cfg, err := p.config()
	if err != nil {
		return nil, err
	}
	return cfg.encode()
}

// config builds the config for p, defaults applied and checked. Two
// configs are the same file when they are reflect.DeepEqual: build makes
// them the same way every time.
func (p Params) config() (*xmlConfig, error) {
	p.applyDefaults()
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("icecast: config: %w", err)
	}
	cfg, err := p.build()
	if err != nil {
		return nil, fmt.Errorf("icecast: config: %w", err)
	}
	return cfg, nil
}

// encode writes cfg as Icecast's XML config file.
func (cfg *xmlConfig) encode() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("<!-- Generated by autoradio's radiod: changes are overwritten. -->\n")
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("icecast: config: encoding XML: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func (p *Params) applyDefaults() {
	p.Port = cmp.Or(p.Port, DefaultPort)
	p.MaxListeners = cmp.Or(p.MaxListeners, DefaultMaxListeners)
	p.BurstSize = cmp.Or(p.BurstSize, DefaultBurstSize)
	p.QueueSize = cmp.Or(p.QueueSize, DefaultQueueSize)
	p.SourceTimeout = cmp.Or(p.SourceTimeout, DefaultSourceTimeout)
	p.HeaderTimeout = cmp.Or(p.HeaderTimeout, DefaultHeaderTimeout)
	p.MasterUpdateInterval = cmp.Or(p.MasterUpdateInterval, DefaultMasterUpdateInterval)
	p.LogLevel = cmp.Or(p.LogLevel, DefaultLogLevel)
	p.LogDir = cmp.Or(p.LogDir, p.BaseDir)
	p.PIDFile = cmp.Or(p.PIDFile, p.BaseDir+"/icecast.pid")
	p.WebRoot = cmp.Or(p.WebRoot, DefaultWebRoot)
	p.AdminRoot = cmp.Or(p.AdminRoot, DefaultAdminRoot)
	p.Hostname = cmp.Or(p.Hostname, p.NodeName)
}

func (p *Params) validate() error {
	switch {
	case p.BaseDir == "":
		return errors.New("no base directory")
	case p.AdminPassword == "" || p.RelayPassword == "":
		return errors.New("admin and relay passwords are required")
	case p.Port < 1 || p.Port > 65535:
		return fmt.Errorf("bad port %d", p.Port)
	case (p.User == "") != (p.Group == ""):
		return errors.New("changeowner needs both a user and a group")
	}
	for _, ip := range p.ListenIPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("bad listen address %q", ip)
		}
	}
	if !p.IsMaster && (net.ParseIP(p.MasterIP) == nil || p.MasterPort < 1 || p.MasterPort > 65535) {
		return fmt.Errorf("relay node needs the master's address, got %q port %d", p.MasterIP, p.MasterPort)
	}
	for _, m := range p.Mounts {
		if err := autoradio.ValidateMountPath(m.Name); err != nil {
			return err
		}
	}
	return nil
}

// sortedMounts returns the mounts ordered by name, without duplicates.
func (p *Params) sortedMounts() []*autoradio.Mount {
	ms := slices.Clone(p.Mounts)
	slices.SortFunc(ms, func(a, b *autoradio.Mount) int { return cmp.Compare(a.Name, b.Name) })
	return slices.CompactFunc(ms, func(a, b *autoradio.Mount) bool { return a.Name == b.Name })
}

func (p *Params) build() (*xmlConfig, error) {
	mounts := p.sortedMounts()
	silence := silenceMounts(mounts)
	sources := len(mounts) + len(silence) + sourceMargin
	clients := p.MaxListeners + sources + clientMargin
	if p.IsMaster {
		clients += p.RelayNodes * len(mounts)
	}
	cfg := &xmlConfig{
		Location: location(p.NodeName, p.ConfigID),
		Admin:    "hostmaster@" + p.Hostname,
		Hostname: p.Hostname,
		Limits: xmlLimits{
			Clients:        clients,
			Sources:        sources,
			QueueSize:      p.QueueSize,
			ClientTimeout:  seconds(DefaultClientTimeout),
			HeaderTimeout:  seconds(p.HeaderTimeout),
			SourceTimeout:  seconds(p.SourceTimeout),
			BurstOnConnect: 1,
			BurstSize:      p.BurstSize,
		},
		Auth: xmlAuth{
			SourcePassword: p.AdminPassword,
			RelayUser:      RelayUser,
			RelayPassword:  p.RelayPassword,
			AdminUser:      AdminUser,
			AdminPassword:  p.AdminPassword,
		},
		MasterUpdateInterval: seconds(p.MasterUpdateInterval),
		FileServe:            1,
		Paths: xmlPaths{
			BaseDir:   p.BaseDir,
			LogDir:    p.LogDir,
			PIDFile:   p.PIDFile,
			WebRoot:   p.WebRoot,
			AdminRoot: p.AdminRoot,
		},
		Logging:  xmlLogging{AccessLog: "-", ErrorLog: "-", LogLevel: p.LogLevel},
		Security: xmlSecurity{Chroot: 0},
	}
	if p.User != "" {
		cfg.Security.ChangeOwner = &xmlChangeOwner{User: p.User, Group: p.Group}
	}
	cfg.Listen = p.listenSockets()
	var err error
	if p.IsMaster {
		cfg.Relays, cfg.Mounts, err = p.masterMounts(mounts)
	} else {
		cfg.Relays, cfg.Mounts = p.relayMounts(mounts)
	}
	cfg.Mounts = append(cfg.Mounts, silence...)
	slices.SortFunc(cfg.Mounts, func(a, b xmlMount) int { return strings.Compare(a.Name, b.Name) })
	return cfg, err
}

func (p *Params) listenSockets() []xmlListen {
	if len(p.ListenIPs) == 0 {
		return []xmlListen{{Port: p.Port}}
	}
	var ls []xmlListen
	for _, ip := range p.ListenIPs {
		ls = append(ls, xmlListen{Port: p.Port, BindAddress: ip})
	}
	return ls
}

// fallbackOf is where a mount's listeners go while it has no source: its
// own fallback, or silence of its format. On the master this keeps
// listeners, and the relays of other nodes, connected while a source
// reconnects or moves to a new master; fallback-override brings them back.
func fallbackOf(m *autoradio.Mount) string {
	if m.Fallback != "" {
		return m.Fallback
	}
	return SilenceMount(m)
}

// silenceMounts are the live silence mounts of the mounts that fall back
// to one (see fallbackOf), hidden, each falling back to its codec's
// silence file (see silences). Their burst is 0: a client that connects
// to a mount on its fallback (a player, a relay or a front-end's feed
// reconnecting) starts at the fallback's burst point, and the node's
// 64 KB burst is 16 s of the 32 kbit/s silence feed, which a player plays
// in full before anything else, ending up that far behind the live
// stream once the source is back (measured in the cluster scenarios: 16
// to 23 s of silence heard for outages of 5 to 8 s). Without a burst, it
// gets the silence as it is fed, at the pace it plays.
func silenceMounts(mounts []*autoradio.Mount) []xmlMount {
	var blocks []xmlMount
	for _, m := range mounts {
		if m.Fallback != "" {
			continue
		}
		blocks = append(blocks, xmlMount{Type: "normal", Name: SilenceMount(m),
			FallbackMount: silences[silenceCodec(m)].name, FallbackOverride: ptr(1), Hidden: ptr(1),
			BurstSize: ptr(0)})
	}
	return blocks
}

// silenceFeeds returns the live silence mounts of cfg, each with its
// codec: the feeds that go with cfg (see feedSilence).
func silenceFeeds(cfg *xmlConfig) map[string]string {
	feeds := make(map[string]string)
	for _, m := range cfg.Mounts {
		if !strings.HasPrefix(m.Name, liveSilencePrefix+"/") {
			continue
		}
		for codec, s := range silences {
			if s.name == m.FallbackMount {
				feeds[m.Name] = codec
			}
		}
	}
	return feeds
}

// masterMounts: sources connect here with each mount's own credentials;
// mounts with a relay URL are pulled from upstream.
func (p *Params) masterMounts(mounts []*autoradio.Mount) ([]xmlRelay, []xmlMount, error) {
	var relays []xmlRelay
	var blocks []xmlMount
	for _, m := range mounts {
		if m.IsRelay() {
			r, err := upstreamRelay(m)
			if err != nil {
				return nil, nil, err
			}
			relays = append(relays, r)
		}
		b := p.mountBlock(m.Name, fallbackOf(m))
		b.Username, b.Password = m.Username, m.Password
		blocks = append(blocks, b)
	}
	return relays, blocks, nil
}

// relayMounts: every mount is pulled from the master, and has a fallback
// so that its listeners survive while the relay reconnects.
func (p *Params) relayMounts(mounts []*autoradio.Mount) ([]xmlRelay, []xmlMount) {
	var relays []xmlRelay
	var blocks []xmlMount
	for _, m := range mounts {
		relays = append(relays, xmlRelay{
			Server:     p.MasterIP,
			Port:       p.MasterPort,
			Mount:      m.Name,
			LocalMount: m.Name,
			OnDemand:   0,
		})
		blocks = append(blocks, p.mountBlock(m.Name, fallbackOf(m)))
	}
	return relays, blocks
}

// titleCharset is the <charset> of every mount: the character set of
// the titles Icecast keeps. Icecast 2.4 converts an MP3 or AAC mount's
// titles into it, from the charset a metadata update names (none: the
// bytes as they are), before it puts them into the stream and, converted
// back, into its statistics; its default, ISO8859-1, cannot hold most
// characters, which the conversion (libxml2's) writes as "&#9835;", and
// it turns UTF-8 sent without a charset into mojibake ("CafÃ©"). With
// UTF-8 every title keeps its characters, in the statistics and in the
// stream (where current players read UTF-8), and a relay node reads the
// titles in the master's stream as what they are. Ogg titles are UTF-8
// whatever this says.
const titleCharset = "UTF-8"

func (p *Params) mountBlock(name, fallback string) xmlMount {
	b := xmlMount{Type: "normal", Name: name, Charset: titleCharset}
	if fallback != "" {
		b.FallbackMount = fallback
		b.FallbackOverride = ptr(1)
	}
	if slices.Contains(p.LowBurstMounts, name) {
		b.BurstSize = ptr(0)
	}
	return b
}

func upstreamRelay(m *autoradio.Mount) (xmlRelay, error) {
	u, err := url.Parse(m.RelayURL)
	if err != nil {
		return xmlRelay{}, fmt.Errorf("mount %s: relay URL: %w", m.Name, err)
	}
	port := 80
	if s := u.Port(); s != "" {
		if port, err = strconv.Atoi(s); err != nil {
			return xmlRelay{}, fmt.Errorf("mount %s: relay URL port %q: %w", m.Name, s, err)
		}
	}
	path := u.EscapedPath()
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	r := xmlRelay{Server: u.Hostname(), Port: port, Mount: path, LocalMount: m.Name, OnDemand: 0}
	if u.User != nil {
		r.Username = u.User.Username()
		r.Password, _ = u.User.Password()
	}
	return r, nil
}

func seconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

func ptr[T any](v T) *T { return &v }
