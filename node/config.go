// Package node is radiod: it keeps the local Icecast configured from etcd and
// running, publishes the node's presence and status, and takes part in the
// master election.
package node

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"autoradio"
)

// Config of a node. Zero fields take the defaults given in their comments.
type Config struct {
	// Name of the node, unique in the cluster; required.
	Name string
	// IPs are the node's public addresses: Icecast listens on them and
	// they are published for the front-ends; at least one is required.
	IPs []string
	// IcecastPort is the Icecast HTTP port. Default:
	// autoradio.DefaultIcecastPort.
	IcecastPort int
	// StateDir holds the generated config, the Icecast web root and the
	// node's secrets. Default: /var/lib/autoradio.
	StateDir string
	// IcecastConfig is the path of the generated Icecast config.
	// Default: StateDir/icecast.xml.
	IcecastConfig string
	// IcecastBin is the icecast2 program. Default: "icecast2".
	IcecastBin string
	// IcecastUser and IcecastGroup are what Icecast drops to when radiod
	// runs as root. Default: icecast2 and icecast (as root only).
	IcecastUser, IcecastGroup string
	// MaxListeners is how many listeners this node serves. Default: 1000.
	MaxListeners int
	// BandwidthLimit is the outgoing bandwidth (bits/s) above which the
	// front-ends send no more listeners here. 0: no limit.
	BandwidthLimit float64
	// Interface is the network interface whose outgoing bandwidth is
	// measured. Default: the interface of the default route and those
	// that carry one of IPs (lo for loopback addresses), added up.
	Interface string
	// ProcPath is where procfs is mounted. Default: /proc.
	ProcPath string
	// SessionTTL is the lease TTL of the node's presence and elections:
	// how long a dead node keeps its place. Default: 5s.
	SessionTTL time.Duration
	// PollInterval is how often Icecast's status is read. Default: 1s.
	PollInterval time.Duration
	// Heartbeat is the longest time between two status publications even
	// when nothing changed, so that readers see it is fresh. Default: 30s.
	Heartbeat time.Duration
	// FrontendURL is this node's front-end (redirectord), whose proxied
	// listeners are counted with Icecast's: Icecast sees one connection
	// per mount for all of them. Empty: Icecast's counts only.
	FrontendURL string
	// DrainTimeout bounds how long a master that is stopping waits for
	// the next master to serve the mounts before its Icecast stops.
	// Default: 20s; negative: no wait.
	DrainTimeout time.Duration
	// LiquidsoapBin is the liquidsoap program that transcoders run.
	// Default: "liquidsoap".
	LiquidsoapBin string
	// Logger. Default: slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.Name == "" {
		return errors.New("node: no name")
	}
	if len(c.IPs) == 0 {
		return errors.New("node: no IP address")
	}
	c.IcecastPort = cmp.Or(c.IcecastPort, autoradio.DefaultIcecastPort)
	c.StateDir = cmp.Or(c.StateDir, "/var/lib/autoradio")
	c.IcecastConfig = cmp.Or(c.IcecastConfig, filepath.Join(c.StateDir, "icecast.xml"))
	c.IcecastBin = cmp.Or(c.IcecastBin, "icecast2")
	c.LiquidsoapBin = cmp.Or(c.LiquidsoapBin, "liquidsoap")
	if os.Geteuid() == 0 {
		c.IcecastUser = cmp.Or(c.IcecastUser, "icecast2")
		c.IcecastGroup = cmp.Or(c.IcecastGroup, "icecast")
	}
	c.MaxListeners = cmp.Or(c.MaxListeners, 1000)
	c.ProcPath = cmp.Or(c.ProcPath, "/proc")
	c.SessionTTL = cmp.Or(c.SessionTTL, 5*time.Second)
	c.PollInterval = cmp.Or(c.PollInterval, time.Second)
	c.Heartbeat = cmp.Or(c.Heartbeat, 30*time.Second)
	c.DrainTimeout = cmp.Or(c.DrainTimeout, 20*time.Second)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	if c.IcecastPort < 1 || c.IcecastPort > 65535 {
		return fmt.Errorf("node: bad Icecast port %d", c.IcecastPort)
	}
	if c.SessionTTL < time.Second {
		return fmt.Errorf("node: session TTL %v is under a second", c.SessionTTL)
	}
	return nil
}

// icecastDir is Icecast's base directory, owned by the Icecast user.
func (c *Config) icecastDir() string { return filepath.Join(c.StateDir, "icecast") }

// icecastURL is where the local Icecast answers radiod.
func (c *Config) icecastURL() string {
	return "http://" + net.JoinHostPort(c.IPs[0], strconv.Itoa(c.IcecastPort))
}

// webRoot is the Icecast web root made by icecast.InstallWebroot.
func (c *Config) webRoot() string { return filepath.Join(c.StateDir, "webroot") }

// transcodeDir holds the transcoders' liquidsoap scripts.
func (c *Config) transcodeDir() string { return filepath.Join(c.StateDir, "transcode") }

// secretsFile keeps the node's Icecast passwords across restarts.
func (c *Config) secretsFile() string { return filepath.Join(c.StateDir, "secrets.json") }
