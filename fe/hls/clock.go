package hls

import "time"

// A clock estimates when a stream's audio went live. Position p of the
// stream (the duration of its audio since the clock began) went live at
// base+p; base is the earliest of arrival−p over the observations of the
// last window: data that comes late (network jitter, a slow read) is
// ignored for data that came on time, and data that comes early (a burst
// of older audio when a connection opens) moves base back at once. When a
// stream stalls, base moves forward once the window has passed.
type clock struct {
	window time.Duration
	obs    []observation // increasing at and base: a monotonic queue
}

type observation struct {
	at   time.Time // arrival
	base time.Time // arrival − position
}

// observe notes that the audio up to position end had arrived at at, and
// returns how far this moved base (negative: back); false for the first
// observation.
func (c *clock) observe(at time.Time, end time.Duration) (time.Duration, bool) {
	old, had := c.base()
	o := observation{at: at, base: at.Add(-end)}
	for len(c.obs) > 0 && !c.obs[len(c.obs)-1].base.Before(o.base) {
		c.obs = c.obs[:len(c.obs)-1]
	}
	c.obs = append(c.obs, o)
	for len(c.obs) > 1 && at.Sub(c.obs[0].at) > c.window {
		c.obs = c.obs[1:]
	}
	if !had {
		return 0, false
	}
	b, _ := c.base()
	return b.Sub(old), true
}

// base returns when position 0 went live; false before any observation.
func (c *clock) base() (time.Time, bool) {
	if len(c.obs) == 0 {
		return time.Time{}, false
	}
	return c.obs[0].base, true
}
