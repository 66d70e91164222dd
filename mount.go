package autoradio

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxMountPathLen is the longest mount path accepted, in bytes.
const MaxMountPathLen = 200

// Limits of source credentials, in bytes. Generated ones are far shorter;
// the limits keep every mount record well within one etcd request.
const (
	MaxUsernameLen = 64
	MaxPasswordLen = 255
)

// MaxRelayURLLen is the longest relay URL accepted, in bytes.
const MaxRelayURLLen = 1024

// Mount is the cluster-wide configuration of one Icecast mount, stored as
// JSON under MountKey(Name).
type Mount struct {
	// Name is the mount path, e.g. "/live.ogg".
	Name string `json:"name" yaml:"name"`
	// Username and Password authenticate the mount's source.
	Username string `json:"username,omitempty" yaml:"username,omitempty"`
	Password string `json:"password,omitempty" yaml:"password,omitempty"`
	// RelayURL, when set, makes the master pull the mount from an upstream
	// server instead of waiting for a source.
	RelayURL string `json:"relay_url,omitempty" yaml:"relay_url,omitempty"`
	// Fallback is the path of another mount that listeners are moved to
	// while this one has no source.
	Fallback string `json:"fallback,omitempty" yaml:"fallback,omitempty"`
	// Transcoding, when set, makes the cluster feed this mount by
	// re-encoding another one with liquidsoap.
	Transcoding *Transcoding `json:"transcoding,omitempty" yaml:"transcoding,omitempty"`
}

// IsRelay reports whether the mount is pulled from an upstream URL.
func (m *Mount) IsRelay() bool { return m.RelayURL != "" }

// HasTranscoding reports whether the mount is fed by a transcoder.
func (m *Mount) HasTranscoding() bool { return m.Transcoding != nil }

// Validate checks the mount record as a whole: its path, its relay URL, its
// fallback and its transcoding parameters. It does not check that referenced
// mounts exist; the Client does that atomically when storing.
func (m *Mount) Validate() error {
	if err := ValidateMountPath(m.Name); err != nil {
		return err
	}
	if err := validateCredentials(m.Username, m.Password); err != nil {
		return err
	}
	if m.RelayURL != "" {
		if err := validateRelayURL(m.RelayURL); err != nil {
			return err
		}
	}
	if m.Fallback != "" {
		if err := ValidateMountPath(m.Fallback); err != nil {
			return fmt.Errorf("fallback: %w", err)
		}
		if m.Fallback == m.Name {
			return fmt.Errorf("fallback %q: a mount cannot be its own fallback", m.Fallback)
		}
	}
	if m.Transcoding != nil {
		if m.RelayURL != "" {
			return errors.New("a mount cannot both relay an upstream URL and be transcoded")
		}
		if m.Transcoding.SourceName == m.Name {
			return fmt.Errorf("transcoding source %q: a mount cannot transcode itself", m.Name)
		}
		if err := m.Transcoding.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// ValidateMountPath checks a mount path against the rules that README.md
// states (under "radioctl") and returns an error that says which rule it
// breaks.
func ValidateMountPath(p string) error {
	switch {
	case p == "":
		return errors.New("mount path is empty")
	case len(p) > MaxMountPathLen:
		return fmt.Errorf("mount path is %d bytes long, the limit is %d", len(p), MaxMountPathLen)
	case p[0] != '/':
		return fmt.Errorf("mount path %q must start with /", p)
	case p == "/":
		return errors.New(`mount path "/" has no name`)
	case strings.HasPrefix(p, "/_"):
		return fmt.Errorf("mount path %q must not start with /_ (reserved for the front-end)", p)
	case strings.HasSuffix(p, "/"):
		return fmt.Errorf("mount path %q must not end with /", p)
	case strings.HasSuffix(p, ".m3u") || strings.HasSuffix(p, ".pls"):
		return fmt.Errorf("mount path %q must not end in .m3u or .pls (reserved for playlists)", p)
	case strings.HasSuffix(p, ".m3u8"):
		return fmt.Errorf("mount path %q must not end in .m3u8 (reserved for HLS playlists)", p)
	}
	for i := 0; i < len(p); i++ {
		if !validPathByte(p[i]) {
			r, _ := utf8.DecodeRuneInString(p[i:])
			return fmt.Errorf("mount path %q: character %q at byte %d is not allowed (use letters, digits, '.', '_', '-' and '/')", p, r, i)
		}
	}
	for _, seg := range strings.Split(p[1:], "/") {
		switch seg {
		case "":
			return fmt.Errorf("mount path %q has an empty segment", p)
		case ".", "..":
			return fmt.Errorf("mount path %q has a %q segment", p, seg)
		}
	}
	return nil
}

func validPathByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == '/'
}

// validateCredentials checks a source username and password: both or
// neither, within their length limits, and such that a source can send
// them in HTTP Basic authentication (no control characters, and no colon
// or space in the username).
func validateCredentials(user, pass string) error {
	switch {
	case user == "" && pass == "":
		return nil
	case user == "":
		return errors.New("source password without a username")
	case pass == "":
		return errors.New("source username without a password")
	case len(user) > MaxUsernameLen:
		return fmt.Errorf("source username is %d bytes long, the limit is %d", len(user), MaxUsernameLen)
	case len(pass) > MaxPasswordLen:
		return fmt.Errorf("source password is %d bytes long, the limit is %d", len(pass), MaxPasswordLen)
	case strings.ContainsAny(user, ": "):
		return fmt.Errorf("source username %q: a colon or a space cannot be sent in HTTP authentication", user)
	}
	if err := printable(user); err != nil {
		return fmt.Errorf("source username %q: %w", user, err)
	}
	if err := printable(pass); err != nil {
		return fmt.Errorf("source password: %w", err) // never shown
	}
	return nil
}

// printable fails on invalid UTF-8 and on control characters.
func printable(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for i, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("control character at byte %d", i)
		}
	}
	return nil
}

func validateRelayURL(raw string) error {
	if len(raw) > MaxRelayURLLen {
		return fmt.Errorf("relay URL is %d bytes long, the limit is %d", len(raw), MaxRelayURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("relay URL %q: %w", raw, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("relay URL %q: scheme must be http (Icecast 2.4 relays only speak plain HTTP)", raw)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("relay URL %q has no host", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return fmt.Errorf("relay URL %q: bad port %q", raw, p)
		}
	}
	if u.Path == "" || u.Path == "/" {
		return fmt.Errorf("relay URL %q has no mount path", raw)
	}
	return nil
}

func parsePort(s string) (int, error) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not a number: %q", s)
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, fmt.Errorf("port out of range: %q", s)
		}
	}
	return n, nil
}
