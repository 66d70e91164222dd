package loadgen

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// maxErrorSamples bounds the distinct error messages a report keeps.
const maxErrorSamples = 5

// runner holds one run's shared state.
type runner struct {
	cfg    Config
	client *http.Client

	disconnects atomic.Int64
	errors      atomic.Int64

	mu           sync.Mutex
	firstBytes   []float64
	errorSamples map[string]bool
}

// Run starts cfg.Listeners listeners, lets them listen for cfg.Duration
// and reports what they received. It fails only on a bad configuration, a
// watched process it cannot read, or ctx ending first.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	r := &runner{cfg: cfg, client: newClient(cfg), errorSamples: map[string]bool{}}
	defer r.client.CloseIdleConnections()
	return r.run(ctx)
}

func (r *runner) run(ctx context.Context) (*Report, error) {
	before, err := r.sampleAll()
	if err != nil {
		return nil, err
	}
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()

	start := time.Now()
	end := start.Add(r.cfg.Duration)
	ls := make([]*listener, r.cfg.Listeners)
	for i := range ls {
		ls[i] = &listener{}
	}
	winStart := start.Add(min(r.cfg.rampDuration()+r.cfg.Settle, r.cfg.Duration))
	for i, l := range ls {
		at := start.Add(r.cfg.startOffset(i))
		if at.After(end) {
			break
		}
		if !sleepUntil(ctx, at) {
			return nil, ctx.Err()
		}
		wg.Add(1)
		go func() { defer wg.Done(); r.listen(lctx, l) }()
	}
	if !sleepUntil(ctx, winStart) {
		return nil, ctx.Err()
	}
	base, atWin, err := r.snapshot(ls)
	if err != nil {
		return nil, err
	}
	if !sleepUntil(ctx, end) {
		return nil, ctx.Err()
	}
	last, atEnd, err := r.snapshot(ls)
	if err != nil {
		return nil, err
	}
	return r.report(ls, before, base, last, atWin, atEnd), nil
}

// snap is the state of every listener and watched process at one moment.
type snap struct {
	at    time.Time
	bytes []int64
	up    []bool
}

func (r *runner) snapshot(ls []*listener) (snap, []usage, error) {
	s := snap{at: time.Now(), bytes: make([]int64, len(ls)), up: make([]bool, len(ls))}
	for i, l := range ls {
		s.bytes[i] = l.bytes.Load()
		s.up[i] = l.up.Load()
	}
	u, err := r.sampleAll()
	return s, u, err
}

func (r *runner) sampleAll() ([]usage, error) {
	us := make([]usage, len(r.cfg.Watch))
	for i, p := range r.cfg.Watch {
		u, err := sample("/proc", p)
		if err != nil {
			return nil, err
		}
		us[i] = u
	}
	return us, nil
}

func (r *runner) report(ls []*listener, before []usage, win, end snap, atWin, atEnd []usage) *Report {
	rep := &Report{URL: r.cfg.URL, Listeners: len(ls), Disconnects: r.disconnects.Load(), Errors: r.errors.Load()}
	var rates []float64
	var total int64
	for i, l := range ls {
		if l.everUp.Load() {
			rep.Connected++
		}
		total += end.bytes[i] - win.bytes[i]
		if !end.up[i] {
			continue
		}
		rep.Kept++
		from := win.at
		if fb := time.Unix(0, l.firstByte.Load()); fb.After(from) {
			from = fb
		}
		if d := end.at.Sub(from).Seconds(); d > 0 {
			rates = append(rates, float64(end.bytes[i]-win.bytes[i])/d)
		}
	}
	window := end.at.Sub(win.at)
	rep.WindowSeconds = window.Seconds()
	rep.BytesPerSecond = Summarize(rates)
	if window > 0 {
		rep.TotalBytesPerSecond = float64(total) / window.Seconds()
	}
	r.mu.Lock()
	rep.FirstByteSeconds = Summarize(r.firstBytes)
	for e := range r.errorSamples {
		rep.ErrorSamples = append(rep.ErrorSamples, e)
	}
	r.mu.Unlock()
	for i, p := range r.cfg.Watch {
		rep.Processes = append(rep.Processes, newProcessReport(p.Name, before[i], atWin[i], atEnd[i], rep.Kept, window))
	}
	return rep
}

func (r *runner) noteFirstByte(d time.Duration) {
	r.mu.Lock()
	r.firstBytes = append(r.firstBytes, d.Seconds())
	r.mu.Unlock()
}

func (r *runner) noteError(err error) {
	r.errors.Add(1)
	r.mu.Lock()
	if len(r.errorSamples) < maxErrorSamples {
		r.errorSamples[err.Error()] = true
	}
	r.mu.Unlock()
}

// sleepUntil waits until t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
