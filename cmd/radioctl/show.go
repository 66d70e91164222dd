package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"autoradio"
)

func (a *app) listMountsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list-mounts",
		Short: "List mount paths, one per line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var mounts []*autoradio.Mount
			err := a.withClient(cmd, func(ctx context.Context, c *autoradio.Client) (err error) {
				mounts, err = c.ListMounts(ctx)
				return err
			})
			if err != nil {
				return err
			}
			for _, m := range mounts {
				fmt.Fprintln(a.stdout, m.Name)
			}
			return nil
		},
	}
}

func (a *app) showMountCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show-mount PATH",
		Short: "Show a mount as YAML, credentials included",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := pathArg(args)
			if err != nil {
				return err
			}
			var m *autoradio.Mount
			err = a.withClient(cmd, func(ctx context.Context, c *autoradio.Client) (err error) {
				m, err = c.GetMount(ctx, path)
				return err
			})
			if err != nil {
				return err
			}
			return writeYAML(a.stdout, m)
		},
	}
}

// writeYAML writes v as one YAML document indented by two spaces.
func writeYAML(w io.Writer, v any) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing YAML: %w", err)
	}
	return enc.Close()
}
