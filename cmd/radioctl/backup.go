package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"autoradio"
)

// backupVersion is the version of the backup format that radioctl writes
// and reads. Add fields compatibly; bump it when old readers would
// misunderstand a backup.
const backupVersion = 1

// backup is the document that backup writes and restore reads.
type backup struct {
	// Version of the format; restore refuses versions it does not know.
	Version int `yaml:"version"`
	// Mounts are the mount records, credentials included.
	Mounts []*autoradio.Mount `yaml:"mounts"`
}

func (a *app) backupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "backup",
		Short: "Write every mount as YAML to stdout (credentials included)",
		Long: `Write every mount as one YAML document to stdout, credentials included:

  version: 1
  mounts:
    - name: /live.ogg
      username: ...
      password: ...

The fields of a mount are those of show-mount. 'radioctl restore' reads it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := backup{Version: backupVersion}
			err := a.withClient(cmd, func(ctx context.Context, c *autoradio.Client) (err error) {
				b.Mounts, err = c.ListMounts(ctx)
				return err
			})
			if err != nil {
				return err
			}
			return writeYAML(a.stdout, b)
		},
	}
}

func (a *app) restoreCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE|-",
		Short: "Load a backup; existing mounts are updated, others kept",
		Long: `Load a backup written by 'radioctl backup' from FILE, or from stdin for
"-". Mounts in the backup are created or replaced; mounts that are not in
it are kept. The whole backup is checked before anything is written, and a
restore that fails (etcd refusing or losing a write half-way) leaves the
stored mounts as they were.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readInput(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			mounts, err := parseBackup(data)
			if err != nil {
				return fmt.Errorf("backup %s: %w", args[0], err)
			}
			err = a.withClient(cmd, func(ctx context.Context, c *autoradio.Client) error {
				return c.RestoreMounts(ctx, mounts)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "restored %d mounts\n", len(mounts))
			return nil
		},
	}
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		return data, nil
	}
	return os.ReadFile(name)
}

// parseBackup decodes and checks a whole backup, so that restore writes
// nothing unless every mount in it is valid.
func parseBackup(data []byte) ([]*autoradio.Mount, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var b backup
	if err := dec.Decode(&b); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty")
		}
		return nil, oneLineYAML(err)
	}
	if err := dec.Decode(new(any)); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	if b.Version != backupVersion {
		return nil, fmt.Errorf("version %d is not supported (this radioctl reads version %d)", b.Version, backupVersion)
	}
	for i, m := range b.Mounts {
		if m == nil {
			return nil, fmt.Errorf("mount #%d is empty", i+1)
		}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("mount %q: %w", m.Name, err)
		}
	}
	return b.Mounts, nil
}

// oneLineYAML keeps the first problem of a yaml.TypeError, which lists
// one per line.
func oneLineYAML(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return errors.New(te.Errors[0])
	}
	return err
}
