package autoradio

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
)

// RandomToken returns a random string with n bytes of entropy from
// crypto/rand, in lower-case base32 so that it is safe in URLs, XML and
// shell commands.
func RandomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

// NewSourceCredentials generates a source username and password for a mount.
func NewSourceCredentials() (username, password string, err error) {
	if username, err = RandomToken(5); err != nil {
		return "", "", err
	}
	if password, err = RandomToken(15); err != nil {
		return "", "", err
	}
	return "source" + username, password, nil
}
