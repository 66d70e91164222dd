package transcode

import (
	"context"
	"fmt"
	"os"
	"time"

	"autoradio"
)

// checkResult is the outcome of liquidsoap --check for one encoding;
// done is closed when err is set.
type checkResult struct {
	done      chan struct{}
	err       error
	cancelled bool // the check was cut short: not a result
}

// check runs liquidsoap --check, once per encoding, on a script of path
// with that encoding. Only the encoding can make a script invalid: every
// other value in it is a quoted string or a port. So the script checked
// has placeholder addresses and credentials, and every node checks the
// encodings of all transcoding mounts as soon as it sees them (precheck):
// a node that takes a transcoder over starts liquidsoap without waiting
// for a check. Concurrent callers share one check.
func (m *Manager) check(ctx context.Context, path string, enc autoradio.Transcoding) error {
	for {
		m.mu.Lock()
		r, found := m.checks[enc]
		if !found {
			r = &checkResult{done: make(chan struct{})}
			m.checks[enc] = r
		}
		m.mu.Unlock()
		if !found {
			return m.runCheck(ctx, path, enc, r)
		}
		select {
		case <-r.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !r.cancelled {
			return r.err
		}
	}
}

func (m *Manager) runCheck(ctx context.Context, path string, enc autoradio.Transcoding, r *checkResult) error {
	start := time.Now()
	err := m.checkScript(ctx, path, enc)
	m.mu.Lock()
	if ctx.Err() != nil {
		delete(m.checks, enc)
		r.cancelled, err = true, ctx.Err()
	} else {
		r.err = err
		if err != nil {
			m.historyOf(path).checkFailures++
		}
	}
	m.mu.Unlock()
	close(r.done)
	m.log.Debug("script checked", "mount", path, "took", time.Since(start).Round(time.Millisecond), "err", err)
	return err
}

// checkScript writes a script of path with encoding enc and placeholder
// endpoints and credentials to a temporary file, and checks it.
func (m *Manager) checkScript(ctx context.Context, path string, enc autoradio.Transcoding) error {
	data, err := Render(Params{
		Mount: path, Transcoding: enc, Username: "source", Password: "placeholder",
		LocalHost: m.cfg.LocalHost, LocalPort: m.cfg.LocalPort, MasterHost: m.cfg.LocalHost, MasterPort: m.cfg.LocalPort,
	})
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(m.cfg.Dir, "check-*.liq")
	if err != nil {
		return fmt.Errorf("transcode: check: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("transcode: check: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.CheckTimeout)
	defer cancel()
	return Check(ctx, m.cfg.Liquidsoap, f.Name())
}

// precheck checks the encoding of path whenever it changes, until ctx
// ends, so that the check is done before this node has to start
// liquidsoap. Failures are reported by the node that runs the transcoder.
func (m *Manager) precheck(ctx context.Context, path string) {
	for {
		mounts, _, wake := m.snapshot()
		if mt := mounts[path]; mt != nil {
			m.check(ctx, path, *mt.Transcoding)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
	}
}
