package statuspage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// HistoryPath is where a front-end serves its listener history.
const HistoryPath = "/_history.json"

// Point is one sample of the cluster's listeners.
type Point struct {
	// T is when the sample was taken, in Unix seconds.
	T int64 `json:"t"`
	// Total is the listeners of every mount together.
	Total int `json:"total"`
	// Mounts are the listeners of each mount that had any.
	Mounts map[string]int `json:"mounts,omitempty"`
}

// HistoryData is the JSON at HistoryPath: the samples, oldest first.
type HistoryData struct {
	IntervalSeconds float64 `json:"interval_seconds"`
	Points          []Point `json:"points"`
}

// history is a ring of the last size samples.
type history struct {
	interval time.Duration
	size     int

	mu     sync.Mutex
	points []Point // oldest first, at most size
}

func newHistory(interval time.Duration, size int) *history {
	return &history{interval: interval, size: size}
}

// add records a sample of st taken at now.
func (h *history) add(now time.Time, st Status) {
	p := Point{T: now.Unix(), Total: st.Listeners, Mounts: map[string]int{}}
	for _, m := range st.Mounts {
		if m.Listeners > 0 {
			p.Mounts[m.Path] = m.Listeners
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.points = append(h.points, p)
	if over := len(h.points) - h.size; over > 0 {
		h.points = append(h.points[:0], h.points[over:]...)
	}
}

// Data returns a copy of the samples.
func (h *history) data() HistoryData {
	h.mu.Lock()
	defer h.mu.Unlock()
	return HistoryData{IntervalSeconds: h.interval.Seconds(), Points: append([]Point(nil), h.points...)}
}

// seed adds a peer's samples that are within the ring's span of now and
// older than its own: a restarted front-end goes on with the cluster's
// history instead of a blank one.
func (h *history) seed(now time.Time, d HistoryData) int {
	oldest := now.Add(-time.Duration(h.size) * h.interval).Unix()
	h.mu.Lock()
	defer h.mu.Unlock()
	before := now.Unix() + 1
	if len(h.points) > 0 {
		before = h.points[0].T
	}
	var add []Point
	for _, p := range d.Points {
		if p.T < oldest || p.T >= before || (len(add) > 0 && p.T <= add[len(add)-1].T) {
			continue // out of the span, or out of order
		}
		add = append(add, p)
	}
	h.points = append(add, h.points...)
	if over := len(h.points) - h.size; over > 0 {
		h.points = h.points[over:]
	}
	return len(add)
}

// peaks returns the most listeners of each mount, and of all together
// (under ""), in the samples taken since the start of now's day.
func (h *history) peaks(now time.Time) map[string]int {
	y, m, d := now.Date()
	since := time.Date(y, m, d, 0, 0, 0, 0, now.Location()).Unix()
	out := map[string]int{}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.points {
		if p.T < since {
			continue
		}
		out[""] = max(out[""], p.Total)
		for mount, n := range p.Mounts {
			out[mount] = max(out[mount], n)
		}
	}
	return out
}

// fetchHistory reads a peer front-end's history at base (such as
// "http://192.0.2.10").
func fetchHistory(ctx context.Context, c *http.Client, base string) (HistoryData, error) {
	var d HistoryData
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+HistoryPath, nil)
	if err != nil {
		return d, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return d, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return d, fmt.Errorf("%s: %s", req.URL, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&d); err != nil {
		return d, fmt.Errorf("%s: %w", req.URL, err)
	}
	return d, nil
}

// seedFromPeers seeds the history from the first peer that answers, and
// reports whether one did.
func (h *history) seedFromPeers(ctx context.Context, c *http.Client, peers []string, log *slog.Logger) bool {
	for _, base := range peers {
		d, err := fetchHistory(ctx, c, base)
		if err != nil {
			log.Debug("reading a peer's listener history", "peer", base, "err", err)
			continue
		}
		n := h.seed(time.Now(), d)
		log.Info("listener history seeded from a peer", "peer", base, "points", n)
		return true
	}
	return false
}
