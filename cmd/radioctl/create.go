package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"autoradio"
)

func (a *app) createMountCmd() *cobra.Command {
	var f mountFlags
	cmd := &cobra.Command{
		Use:   "create-mount PATH",
		Short: "Create a mount and print its source credentials and URLs",
		Long: `Create a mount. A source pushes to it with the generated username and
password, which are printed with the URLs a source and listeners use.
With --relay, the cluster pulls the mount from an upstream server instead;
a relay mount has no source credentials. --username sets the source
username instead of a random one (the password is always generated).

With --wait, the command returns only once every live node serves the
mount: the master's Icecast takes its source, every other node relays it.
A source can then connect at once. (Without it, a source that connects
within the first seconds is held by the front-end until the master
serves the mount.) If --wait-timeout passes first, the command fails,
naming the nodes that do not serve the mount yet; the mount stays
created.`,
		Args: cobra.ExactArgs(1),
	}
	f.addUsername(cmd.Flags())
	f.addRelay(cmd.Flags())
	f.addFallback(cmd.Flags())
	f.wait.add(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.create(cmd, args, &f)
	}
	return cmd
}

func (a *app) createTranscodingMountCmd() *cobra.Command {
	var f mountFlags
	cmd := &cobra.Command{
		Use:   "create-transcoding-mount PATH --source PATH",
		Short: "Create a mount fed by re-encoding another mount",
		Long: `Create a mount that the cluster feeds by re-encoding the --source mount
with liquidsoap. Unset encoding parameters get defaults: mp3 at 128 kbit/s,
44.1 kHz, joint stereo (opus: 64 kbit/s, 48 kHz). --wait waits, as for
create-mount, until every live node serves the mount.`,
		Args: cobra.ExactArgs(1),
	}
	f.addTranscoding(cmd.Flags())
	f.addFallback(cmd.Flags())
	_ = cmd.MarkFlagRequired("source")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.create(cmd, args, &f)
	}
	return cmd
}

// create stores a new mount built from the flags given and prints how to
// use it.
func (a *app) create(cmd *cobra.Command, args []string, f *mountFlags) error {
	path, err := pathArg(args)
	if err != nil {
		return err
	}
	m := &autoradio.Mount{Name: path}
	if _, err := f.apply(cmd.Flags(), m); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if f.wait.wait && f.wait.timeout <= 0 {
		return fmt.Errorf("--wait-timeout must be positive, not %v", f.wait.timeout)
	}
	err = a.withClient(cmd, func(ctx context.Context, c *autoradio.Client) error {
		return c.CreateMount(ctx, m)
	})
	if err != nil {
		return err
	}
	if f.wait.wait {
		err = a.waitServed(cmd, m.Name, f.wait.timeout)
	}
	fmt.Fprintf(a.stdout, "created mount %s\n", m.Name)
	printUsage(a.stdout, a.domain, m)
	return err
}

// waitServed waits up to timeout until every live node serves mount.
func (a *app) waitServed(cmd *cobra.Command, mount string, timeout time.Duration) error {
	err := a.withClientFor(cmd, timeout, func(ctx context.Context, c *autoradio.Client) error {
		return waitServed(ctx, c, mount)
	})
	if errors.Is(err, errNotServed) {
		return fmt.Errorf("mount %s created, but after %v %v (it stays created; see radioctl status)", mount, timeout, err)
	}
	return err
}

// printUsage prints what a source and listeners need to use m.
func printUsage(w io.Writer, domain string, m *autoradio.Mount) {
	switch {
	case m.IsRelay():
		fmt.Fprintf(w, "relayed from: %s\n", m.RelayURL)
	case m.HasTranscoding():
		fmt.Fprintf(w, "transcoded from: %s\n", m.Transcoding.SourceName)
	}
	if m.Username != "" {
		fmt.Fprintf(w, "username: %s\npassword: %s\n", m.Username, m.Password)
	}
	if domain == "" {
		fmt.Fprintf(w, "path: %s (no --domain or AUTORADIO_DOMAIN set: use the cluster's domain as host)\n", m.Name)
		return
	}
	listen := url.URL{Scheme: "http", Host: domain, Path: m.Name}
	if m.Username != "" && !m.HasTranscoding() {
		source := listen
		source.User = url.UserPassword(m.Username, m.Password)
		fmt.Fprintf(w, "source URL: %s\n", source.String())
	}
	fmt.Fprintf(w, "listen URL: %s\n", listen.String())
}
