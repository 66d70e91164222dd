package icecast

import "encoding/xml"

// The structs below mirror the parts of Icecast 2.4's configuration that
// autoradio writes. Field order is element order in the output.

type xmlConfig struct {
	XMLName              xml.Name    `xml:"icecast"`
	Location             string      `xml:"location"`
	Admin                string      `xml:"admin"`
	Hostname             string      `xml:"hostname"`
	Limits               xmlLimits   `xml:"limits"`
	Auth                 xmlAuth     `xml:"authentication"`
	Listen               []xmlListen `xml:"listen-socket"`
	MasterUpdateInterval int         `xml:"master-update-interval"`
	Relays               []xmlRelay  `xml:"relay"`
	Mounts               []xmlMount  `xml:"mount"`
	FileServe            int         `xml:"fileserve"`
	Paths                xmlPaths    `xml:"paths"`
	Logging              xmlLogging  `xml:"logging"`
	Security             xmlSecurity `xml:"security"`
}

type xmlLimits struct {
	Clients        int `xml:"clients"`
	Sources        int `xml:"sources"`
	QueueSize      int `xml:"queue-size"`
	ClientTimeout  int `xml:"client-timeout"`
	HeaderTimeout  int `xml:"header-timeout"`
	SourceTimeout  int `xml:"source-timeout"`
	BurstOnConnect int `xml:"burst-on-connect"`
	BurstSize      int `xml:"burst-size"`
}

type xmlAuth struct {
	SourcePassword string `xml:"source-password"`
	RelayUser      string `xml:"relay-user"`
	RelayPassword  string `xml:"relay-password"`
	AdminUser      string `xml:"admin-user"`
	AdminPassword  string `xml:"admin-password"`
}

type xmlListen struct {
	Port        int    `xml:"port"`
	BindAddress string `xml:"bind-address,omitempty"`
}

type xmlRelay struct {
	Server     string `xml:"server"`
	Port       int    `xml:"port"`
	Mount      string `xml:"mount"`
	LocalMount string `xml:"local-mount"`
	Username   string `xml:"username,omitempty"`
	Password   string `xml:"password,omitempty"`
	OnDemand   int    `xml:"on-demand"`
}

type xmlMount struct {
	Type             string `xml:"type,attr"`
	Name             string `xml:"mount-name"`
	Username         string `xml:"username,omitempty"`
	Password         string `xml:"password,omitempty"`
	FallbackMount    string `xml:"fallback-mount,omitempty"`
	FallbackOverride *int   `xml:"fallback-override"`
	BurstSize        *int   `xml:"burst-size"`
	Hidden           *int   `xml:"hidden"`
	Charset          string `xml:"charset,omitempty"`
}

type xmlPaths struct {
	BaseDir   string `xml:"basedir"`
	LogDir    string `xml:"logdir"`
	PIDFile   string `xml:"pidfile"`
	WebRoot   string `xml:"webroot"`
	AdminRoot string `xml:"adminroot"`
}

type xmlLogging struct {
	AccessLog string `xml:"accesslog"`
	ErrorLog  string `xml:"errorlog"`
	LogLevel  int    `xml:"loglevel"`
}

type xmlSecurity struct {
	Chroot      int             `xml:"chroot"`
	ChangeOwner *xmlChangeOwner `xml:"changeowner"`
}

type xmlChangeOwner struct {
	User  string `xml:"user"`
	Group string `xml:"group"`
}
