package transcode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"go.etcd.io/etcd/client/v3/concurrency"

	"autoradio"
	"autoradio/coordination"
)

// Manager runs this node's share of the cluster's transcoders. It holds
// one candidacy per transcoding mount under the node's session, and runs
// liquidsoap for each mount whose election it wins. Feed it the cluster's
// mounts and master with Update, and run it under each session with
// RunSession.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	mounts  map[string]*autoradio.Mount // transcoding mounts, by path
	master  *autoradio.MasterInfo
	wake    chan struct{} // closed and replaced by Update
	checks  map[autoradio.Transcoding]*checkResult
	running map[string]*transcoder // the mounts this node leads
	history map[string]*history    // by mount, across leaderships
}

// history counts what happened to one mount's transcoder on this node.
type history struct {
	restarts      uint64 // liquidsoap starts after the first of a leadership
	checkFailures uint64
}

// candidate is the value of a node's candidacy in a transcoder election.
type candidate struct {
	Name string `json:"name"`
}

// NewManager checks cfg and creates the script directory.
func NewManager(cfg Config) (*Manager, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("transcode: script dir: %w", err)
	}
	if err := os.Chmod(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("transcode: script dir: %w", err)
	}
	// Scripts left by a radiod that was killed: nothing runs them now.
	old, _ := filepath.Glob(filepath.Join(cfg.Dir, "*.liq"))
	for _, f := range old {
		os.Remove(f)
	}
	return &Manager{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "transcode"),
		mounts:  map[string]*autoradio.Mount{},
		wake:    make(chan struct{}),
		checks:  map[autoradio.Transcoding]*checkResult{},
		running: map[string]*transcoder{},
		history: map[string]*history{},
	}, nil
}

// Update gives the Manager the cluster's mounts and master (nil while
// unknown). It does not block, and may be called from any goroutine.
func (m *Manager) Update(mounts []*autoradio.Mount, master *autoradio.MasterInfo) {
	tm := make(map[string]*autoradio.Mount)
	for _, mt := range mounts {
		if mt.Transcoding != nil {
			tm[mt.Name] = mt
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mounts, m.master = tm, master
	close(m.wake)
	m.wake = make(chan struct{})
}

// snapshot returns the transcoding mounts, the master, and a channel
// closed at the next Update.
func (m *Manager) snapshot() (map[string]*autoradio.Mount, *autoradio.MasterInfo, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mounts, m.master, m.wake
}

// campaign is the candidacy of this node for one mount.
type campaign struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// RunSession takes part, under session s, in the election of every
// transcoding mount, as mounts come and go, and runs the transcoders it
// wins. It returns when ctx ends (nil) or when the session is lost (an
// error wrapping coordination.ErrSessionLost), after every transcoder it
// ran has stopped.
func (m *Manager) RunSession(ctx context.Context, s *concurrency.Session) error {
	campaigns := map[string]*campaign{}
	lost := make(chan error, 1)
	defer func() {
		for path := range campaigns {
			m.withdraw(campaigns, path)
		}
	}()
	for {
		mounts, _, wake := m.snapshot()
		for path := range campaigns {
			if mounts[path] == nil {
				m.withdraw(campaigns, path)
			}
		}
		for path := range mounts {
			if campaigns[path] == nil {
				campaigns[path] = m.campaign(ctx, s, path, lost)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-lost:
			return err
		case <-wake:
		}
	}
}

// campaign runs this node's candidacy for path until cancelled; a lost
// session is reported on lost.
func (m *Manager) campaign(ctx context.Context, s *concurrency.Session, path string, lost chan<- error) *campaign {
	ctx, cancel := context.WithCancel(ctx)
	c := &campaign{cancel: cancel, done: make(chan struct{})}
	el := coordination.NewElection(s, autoradio.TranscoderElection(path), coordination.WithLogger(m.cfg.Logger))
	go func() {
		defer close(c.done)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.precheck(ctx, path)
		}()
		defer wg.Wait()
		err := el.Run(ctx, candidate{Name: m.cfg.Node}, func(lctx context.Context) { m.lead(lctx, path) })
		if err != nil && errors.Is(err, coordination.ErrSessionLost) {
			select {
			case lost <- err:
			default:
			}
		}
	}()
	return c
}

// withdraw ends the candidacy for path (resigning if it leads, after its
// transcoder stopped) and waits for it.
func (m *Manager) withdraw(campaigns map[string]*campaign, path string) {
	c := campaigns[path]
	c.cancel()
	<-c.done
	delete(campaigns, path)
}

// lead runs the transcoder of path for as long as this node leads its
// election.
func (m *Manager) lead(ctx context.Context, path string) {
	t := newTranscoder(m, path)
	m.mu.Lock()
	m.running[path] = t
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.running, path)
		m.historyOf(path).restarts += t.restarts()
		m.mu.Unlock()
	}()
	t.log.Info("elected to run the transcoder")
	t.run(ctx)
	t.log.Info("transcoder stopped", "cause", context.Cause(ctx))
}

// params returns the script parameters of path now; ok is false while
// the mount or the master is unknown.
func (m *Manager) params(path string) (p Params, wake <-chan struct{}, ok bool) {
	mounts, master, wake := m.snapshot()
	mt := mounts[path]
	if mt == nil || master == nil {
		return Params{}, wake, false
	}
	return Params{
		Mount:       mt.Name,
		Transcoding: *mt.Transcoding,
		Username:    mt.Username,
		Password:    mt.Password,
		LocalHost:   m.cfg.LocalHost,
		LocalPort:   m.cfg.LocalPort,
		MasterHost:  master.IPs[0],
		MasterPort:  master.IcecastPort,
	}, wake, true
}

// historyOf returns the history of path; m.mu must be held.
func (m *Manager) historyOf(path string) *history {
	h := m.history[path]
	if h == nil {
		h = &history{}
		m.history[path] = h
	}
	return h
}

// scriptFile is where the script of path is written: the path with its
// slashes escaped ('%' is not allowed in mount paths, so names are unique).
func (m *Manager) scriptFile(path string) string {
	return filepath.Join(m.cfg.Dir, strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", "%2F")+".liq")
}
