package httpfe

import (
	"maps"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// requestCounters caches the counters of autoradio_http_requests_total by
// kind and status code, so that counting a request neither formats the
// code nor hashes the labels. Reads take no lock; a new pair copies the
// map (there are a few dozen pairs at most).
type requestCounters struct {
	vec *prometheus.CounterVec
	mu  sync.Mutex
	m   atomic.Pointer[map[requestKey]prometheus.Counter]
}

type requestKey struct {
	kind string
	code int
}

// inc counts one request of kind answered with code.
func (c *requestCounters) inc(kind string, code int) {
	k := requestKey{kind, code}
	if m := c.m.Load(); m != nil {
		if ctr, ok := (*m)[k]; ok {
			ctr.Inc()
			return
		}
	}
	ctr := c.vec.WithLabelValues(kind, strconv.Itoa(code))
	ctr.Inc()
	c.mu.Lock()
	defer c.mu.Unlock()
	next := map[requestKey]prometheus.Counter{}
	if m := c.m.Load(); m != nil {
		next = maps.Clone(*m)
	}
	next[k] = ctr
	c.m.Store(&next)
}
