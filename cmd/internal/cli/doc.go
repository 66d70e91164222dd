// Package cli is the command-line plumbing shared by radiod, redirectord and
// radioctl: the etcd flags, flags from AUTORADIO_* environment variables,
// the logger, and how a command's error becomes a one-line message and an
// exit status.
package cli
