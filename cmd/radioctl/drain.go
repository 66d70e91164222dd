package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"autoradio"
)

func (a *app) drainCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "drain NODE",
		Short: "Send a node no new listeners and move the master role and transcoders off it",
		Long: `drain marks a node drained in etcd, until undrain. The front-ends send it no
new listeners (unless no other node can take them), and it gives up the master
role and its transcoders to other nodes; the listeners it has stay. The drain
survives restarts of the node. The node must be running.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := autoradio.ValidateNodeName(name); err != nil {
				return err
			}
			var already bool
			err := a.withClient(cmd, func(ctx context.Context, c *autoradio.Client) (err error) {
				already, err = c.DrainNode(ctx, name, time.Now())
				return err
			})
			if err != nil {
				return err
			}
			if already {
				fmt.Fprintf(a.stdout, "%s was already drained\n", name)
			} else {
				fmt.Fprintf(a.stdout, "%s drained\n", name)
			}
			return nil
		},
	}
}

func (a *app) undrainCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "undrain NODE",
		Short: "End the drain of a node",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := autoradio.ValidateNodeName(name); err != nil {
				return err
			}
			var was bool
			err := a.withClient(cmd, func(ctx context.Context, c *autoradio.Client) (err error) {
				was, err = c.UndrainNode(ctx, name)
				return err
			})
			if err != nil {
				return err
			}
			if was {
				fmt.Fprintf(a.stdout, "%s undrained\n", name)
			} else {
				fmt.Fprintf(a.stdout, "%s was not drained\n", name)
			}
			return nil
		},
	}
}
