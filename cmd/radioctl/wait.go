package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"autoradio"
)

// defaultWaitTimeout bounds --wait: a node applies a new mount within
// seconds, a few more when its Icecast restarts meanwhile.
const defaultWaitTimeout = time.Minute

// waitPoll is how often --wait reads the nodes' statuses.
const waitPoll = 500 * time.Millisecond

// waitFlags are --wait and --wait-timeout.
type waitFlags struct {
	wait    bool
	timeout time.Duration
}

func (f *waitFlags) add(fs *pflag.FlagSet) {
	fs.BoolVar(&f.wait, "wait", false, "wait until every live node serves the mount: the master takes its source, every other node relays it")
	fs.DurationVar(&f.timeout, "wait-timeout", defaultWaitTimeout, "how long --wait waits; then the command fails, naming the nodes that do not serve the mount yet (the mount stays)")
}

// errNotServed: the wait for the nodes ended before they all served the
// mount.
var errNotServed = errors.New("not served by every node")

// waitServed waits until every live node publishes that it serves mount,
// or ctx ends: then the error names the nodes that do not.
func waitServed(ctx context.Context, c *autoradio.Client, mount string) error {
	t := time.NewTicker(waitPoll)
	defer t.Stop()
	var missing []string
	var lastErr error
	for {
		nodes, err := c.ListNodes(ctx)
		if err == nil {
			if missing = notServing(nodes, mount); missing == nil {
				return nil
			}
		} else if ctx.Err() == nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return notServedError(missing, lastErr)
		case <-t.C:
		}
	}
}

// notServedError says which nodes did not serve the mount in time.
func notServedError(missing []string, lastErr error) error {
	switch {
	case len(missing) > 0 && missing[0] == "":
		return fmt.Errorf("%w: no node has published its status", errNotServed)
	case len(missing) > 0:
		return fmt.Errorf("%w: not yet on %s", errNotServed, strings.Join(missing, ", "))
	case lastErr != nil:
		return fmt.Errorf("%w: %v", errNotServed, lastErr)
	}
	return errNotServed
}

// notServing returns the names of the nodes that do not serve mount yet:
// whose Icecast is down or has not applied a config with the mount. nil:
// every node serves it; [""]: there are no nodes.
func notServing(nodes []*autoradio.NodeStatus, mount string) []string {
	if len(nodes) == 0 {
		return []string{""}
	}
	var missing []string
	for _, n := range nodes {
		ms, ok := n.Mount(mount)
		if !n.IcecastOK || !ok || !ms.Configured {
			missing = append(missing, n.Name)
		}
	}
	return missing
}
