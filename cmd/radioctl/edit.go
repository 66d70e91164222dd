package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"autoradio"
)

func (a *app) editMountCmd() *cobra.Command {
	var f mountFlags
	cmd := &cobra.Command{
		Use:   "edit-mount PATH",
		Short: "Change a mount; only the flags given change",
		Long: `Change a mount. Only the flags given change; "" clears a text flag and 0
a number (which then gets its default).

--source makes the mount a transcoding mount (or changes its source);
--source "" makes it an ordinary mount again. Changing --codec resets the
encoding parameters not given to the new codec's defaults. --relay makes it
a relay mount, which drops its source credentials; --relay "" makes it an
ordinary mount again, with new credentials that are printed. --username
changes the source username and keeps the password (--username "" picks a
random one); the credentials are printed.`,
		Args: cobra.ExactArgs(1),
	}
	f.addUsername(cmd.Flags())
	f.addRelay(cmd.Flags())
	f.addFallback(cmd.Flags())
	f.addTranscoding(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		path, err := pathArg(args)
		if err != nil {
			return err
		}
		if !anyChanged(cmd.Flags(), mountFieldFlags...) {
			return errors.New("nothing to change: give at least one flag")
		}
		var m *autoradio.Mount
		var newCreds bool
		err = a.withClient(cmd, func(ctx context.Context, c *autoradio.Client) (err error) {
			m, err = c.EditMount(ctx, path, func(m *autoradio.Mount) (err error) {
				newCreds, err = f.apply(cmd.Flags(), m)
				return err
			})
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "updated mount %s\n", m.Name)
		if newCreds {
			printUsage(a.stdout, a.domain, m)
		}
		return nil
	}
	return cmd
}

func (a *app) deleteMountCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete-mount PATH",
		Short: "Delete a mount (refused while another mount uses it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := pathArg(args)
			if err != nil {
				return err
			}
			err = a.withClient(cmd, func(ctx context.Context, c *autoradio.Client) error {
				return c.DeleteMount(ctx, path)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "deleted mount %s\n", path)
			return nil
		},
	}
}
