package transcode

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"autoradio/node/atomicfile"
	"autoradio/node/child"
)

// transcoder is one leadership's liquidsoap for one mount: it renders the
// script, checks it, supervises liquidsoap, and restarts it when the
// script changes (a new master, new parameters or credentials).
type transcoder struct {
	m        *Manager
	path     string
	file     string
	log      *slog.Logger
	since    time.Time
	password atomic.Pointer[string] // for Redact

	sup     *child.Supervisor
	stop    context.CancelFunc
	exited  chan error // the supervisor's Run returned
	applied *Params

	mu     sync.Mutex // guards what Status reads
	master string
	state  string
	sups   []*child.Supervisor // every supervisor of this leadership
}

func newTranscoder(m *Manager, path string) *transcoder {
	t := &transcoder{m: m, path: path, file: m.scriptFile(path), since: time.Now(), state: "waiting for the master",
		log: m.log.With("mount", path)}
	t.password.Store(new(string))
	return t
}

// run keeps liquidsoap in line with the mount and the master until ctx
// ends, then stops it and waits for it.
func (t *transcoder) run(ctx context.Context) {
	defer os.Remove(t.file) // it holds the mount's password
	defer t.stopChild()
	for {
		p, wake, ok := t.m.params(t.path)
		if ok && (t.applied == nil || !reflect.DeepEqual(*t.applied, p)) {
			t.apply(ctx, p)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case err := <-t.exited:
			t.log.Error("liquidsoap cannot start", "err", err)
			t.setState("cannot start liquidsoap: "+err.Error(), "")
			t.stop()
			t.sup, t.stop, t.exited = nil, nil, nil
			t.applied = nil // try again at the next change
		}
	}
}

// apply renders p, checks the script for a new encoding, and (re)starts
// liquidsoap when the script changed.
func (t *transcoder) apply(ctx context.Context, p Params) {
	t.applied = &p
	data, err := Render(p)
	if err != nil {
		t.fail("rendering the script", err)
		return
	}
	t.password.Store(&p.Password)
	changed, err := atomicfile.WriteFile(t.file, data, 0o600)
	if err != nil {
		t.fail("writing the script", err)
		return
	}
	if err := t.m.check(ctx, t.path, p.Transcoding); err != nil {
		if ctx.Err() == nil {
			t.fail("the script does not pass liquidsoap --check", err)
		}
		return
	}
	master := p.MasterHost + ":" + strconv.Itoa(p.MasterPort)
	switch {
	case t.sup == nil:
		t.startChild()
		t.log.Info("liquidsoap started", "master", master)
	case changed:
		t.sup.Restart()
		t.log.Info("liquidsoap restarted with a new script", "master", master)
	}
	t.setState("running", master)
}

// fail reports a problem that keeps liquidsoap from running, and stops
// any that still runs an older script.
func (t *transcoder) fail(what string, err error) {
	msg := t.redact(fmt.Sprintf("%s: %v", what, err))
	t.log.Error("transcoder cannot run", "err", msg)
	t.setState(msg, "")
	t.stopChild()
}

func (t *transcoder) startChild() {
	cfg := t.m.cfg
	sup, err := child.New(child.Config{
		Name:           "liquidsoap",
		Path:           cfg.Liquidsoap,
		Args:           []string{t.file},
		Logger:         t.log,
		Redact:         t.redact,
		LineLevel:      liquidsoapLineLevel,
		KillTimeout:    cfg.KillTimeout,
		BackoffInitial: cfg.BackoffInitial,
		BackoffMax:     cfg.BackoffMax,
	})
	if err != nil {
		t.fail("liquidsoap", err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	exited := make(chan error, 1)
	go func() { exited <- sup.Run(ctx) }()
	t.sup, t.stop, t.exited = sup, stop, exited
	t.mu.Lock()
	t.sups = append(t.sups, sup)
	t.mu.Unlock()
}

// stopChild stops liquidsoap, if it runs, and waits until it is reaped.
func (t *transcoder) stopChild() {
	if t.sup == nil {
		return
	}
	t.stop()
	if err := <-t.exited; err != nil {
		t.log.Warn("liquidsoap", "err", err)
	}
	t.sup, t.stop, t.exited = nil, nil, nil
}

// restarts counts liquidsoap's starts after the first of each supervisor.
func (t *transcoder) restarts() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n uint64
	for _, s := range t.sups {
		n += s.Restarts()
	}
	return n
}

func (t *transcoder) setState(state, master string) {
	t.mu.Lock()
	t.state, t.master = state, master
	t.mu.Unlock()
}

// redact masks the mount's password, as given and as quoted in the script.
func (t *transcoder) redact(s string) string {
	pw := *t.password.Load()
	if pw == "" {
		return s
	}
	s = strings.ReplaceAll(s, pw, "********")
	if q := Quote(pw); q[0] == '"' {
		s = strings.ReplaceAll(s, q[1:len(q)-1], "********")
	}
	return s
}

// liquidsoapTag is the "[source:level]" of a liquidsoap log line.
var liquidsoapTag = regexp.MustCompile(`^\S+ \S+ \[([^\]:]+):(\d)\] `)

// liquidsoapLineLevel maps liquidsoap's levels (1 critical, 2 severe,
// 3 important, 4 info, 5 debug) to slog's. Of the "important" lines, only
// those of the script's own sources and output (connections, switches to
// and from silence) are Info: the rest is start-up chatter. Lines of the
// libraries it uses (ffmpeg's retries while the upstream is away) are
// Debug.
func liquidsoapLineLevel(line string) slog.Level {
	m := liquidsoapTag.FindStringSubmatch(line)
	if m == nil {
		return slog.LevelDebug
	}
	switch m[2] {
	case "1":
		return slog.LevelError
	case "2":
		return slog.LevelWarn
	case "3":
		if ownSources[m[1]] {
			return slog.LevelInfo
		}
	}
	return slog.LevelDebug
}

// ownSources are the ids the script gives its operators.
var ownSources = map[string]bool{"upstream": true, "radio": true, "silence": true, "output": true}
