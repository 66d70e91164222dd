package authguard

import (
	"cmp"
	"fmt"
	"time"
)

// Config configures a Guard. The zero value of every field means its
// documented default.
type Config struct {
	// MaxFailures is how many failed logins an address may have within
	// Window; the last of them starts a lockout. Attempts awaiting their
	// answer count too, so that guesses sent in parallel are bounded as
	// well. Default 10.
	MaxFailures int
	// Window is the period over which failures are counted, from an
	// address's first failure. Default 1 minute.
	Window time.Duration
	// Lockout is how long an address's first lockout lasts. Each further
	// one, until the address is forgotten, lasts twice as long as the one
	// before, up to MaxLockout. Default 1 minute.
	Lockout time.Duration
	// MaxLockout caps the length of a lockout. Default 1 hour.
	MaxLockout time.Duration
	// ForgetAfter is how long an address that failed is remembered after
	// its last failure: within it, its next lockout is longer than its
	// last. At least MaxLockout and Window. Default 24 hours.
	ForgetAfter time.Duration
	// MaxAddresses bounds the addresses remembered (about 200 bytes
	// each); when it is reached, the one that failed least recently is
	// forgotten. Default 10000.
	MaxAddresses int
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Defaults.
const (
	DefaultMaxFailures  = 10
	DefaultWindow       = time.Minute
	DefaultLockout      = time.Minute
	DefaultMaxLockout   = time.Hour
	DefaultForgetAfter  = 24 * time.Hour
	DefaultMaxAddresses = 10000
)

// withDefaults returns c with defaults filled in, or an error naming the
// first invalid field.
func (c Config) withDefaults() (Config, error) {
	c.MaxFailures = cmp.Or(c.MaxFailures, DefaultMaxFailures)
	c.Window = cmp.Or(c.Window, DefaultWindow)
	c.Lockout = cmp.Or(c.Lockout, DefaultLockout)
	c.MaxLockout = cmp.Or(c.MaxLockout, max(DefaultMaxLockout, c.Lockout))
	c.ForgetAfter = cmp.Or(c.ForgetAfter, max(DefaultForgetAfter, c.MaxLockout, c.Window))
	c.MaxAddresses = cmp.Or(c.MaxAddresses, DefaultMaxAddresses)
	if c.Now == nil {
		c.Now = time.Now
	}
	switch {
	case c.MaxFailures < 1:
		return c, fmt.Errorf("authguard: config: MaxFailures %d is not positive", c.MaxFailures)
	case c.Window < 0 || c.Lockout < 0:
		return c, fmt.Errorf("authguard: config: negative Window %v or Lockout %v", c.Window, c.Lockout)
	case c.MaxLockout < c.Lockout:
		return c, fmt.Errorf("authguard: config: MaxLockout %v is shorter than Lockout %v", c.MaxLockout, c.Lockout)
	case c.ForgetAfter < c.MaxLockout || c.ForgetAfter < c.Window:
		return c, fmt.Errorf("authguard: config: ForgetAfter %v is shorter than MaxLockout %v or Window %v",
			c.ForgetAfter, c.MaxLockout, c.Window)
	case c.MaxAddresses < 1:
		return c, fmt.Errorf("authguard: config: MaxAddresses %d is not positive", c.MaxAddresses)
	}
	return c, nil
}
