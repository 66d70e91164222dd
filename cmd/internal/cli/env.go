package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// EnvPrefix starts the name of every environment variable that sets a flag.
const EnvPrefix = "AUTORADIO_"

// EnvVar returns the environment variable that sets a flag:
// "etcd-urls" -> "AUTORADIO_ETCD_URLS".
func EnvVar(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// BindEnv sets every flag of cmd (its own and those inherited from its
// parents) that was not given on the command line from its environment
// variable, so that the command line wins over the environment. Variables
// that are unset or empty are ignored. Repeatable flags (slices) take a
// comma-separated list. A value the flag refuses is an error naming the
// variable.
func BindEnv(cmd *cobra.Command) error {
	return bindEnv(cmd.Flags(), os.LookupEnv)
}

func bindEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	var firstErr error
	fs.VisitAll(func(f *pflag.Flag) {
		if firstErr != nil || f.Changed || f.Name == "help" {
			return
		}
		name := EnvVar(f.Name)
		v, ok := lookup(name)
		if !ok || v == "" {
			return
		}
		if err := setFromEnv(fs, f, v); err != nil {
			firstErr = fmt.Errorf("environment %s=%q: invalid value for --%s: %w", name, v, f.Name, err)
		}
	})
	return firstErr
}

func setFromEnv(fs *pflag.FlagSet, f *pflag.Flag, v string) error {
	sv, ok := f.Value.(pflag.SliceValue)
	if !ok {
		return fs.Set(f.Name, v)
	}
	var items []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			items = append(items, s)
		}
	}
	if err := sv.Replace(items); err != nil {
		return err
	}
	f.Changed = true
	return nil
}
