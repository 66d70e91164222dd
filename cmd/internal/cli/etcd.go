package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"autoradio"
)

// AddEtcdFlags adds --etcd-urls, --etcd-ca, --etcd-cert and --etcd-key,
// storing into cfg, with the defaults that README.md lists ("The programs").
func AddEtcdFlags(fs *pflag.FlagSet, cfg *autoradio.EtcdConfig) {
	fs.StringSliceVar(&cfg.Endpoints, "etcd-urls", []string{autoradio.DefaultEtcdURL},
		"etcd client URLs, comma-separated (TLS needs https:// URLs)")
	fs.StringVar(&cfg.CAFile, "etcd-ca", autoradio.DefaultEtcdCA,
		"PEM file of the CA of etcd's certificate; TLS is used when it exists")
	fs.StringVar(&cfg.CertFile, "etcd-cert", autoradio.DefaultEtcdCert,
		"PEM client certificate for etcd, used when it and --etcd-key exist")
	fs.StringVar(&cfg.KeyFile, "etcd-key", autoradio.DefaultEtcdKey,
		"PEM private key of --etcd-cert")
}

// EtcdError turns the failure of an etcd request into a one-line error that
// says which etcd could not be reached, with a hint when the TLS settings
// and the URLs do not match. Other errors are returned unchanged.
func EtcdError(cfg autoradio.EtcdConfig, err error) error {
	if err == nil || !isUnreachable(err) {
		return err
	}
	msg := fmt.Sprintf("etcd at %s unreachable: %v", strings.Join(cfg.Endpoints, ","), rootCause(err))
	if hint := tlsHint(cfg); hint != "" {
		msg += " (" + hint + ")"
	}
	return errors.New(msg)
}

func isUnreachable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		switch se.GRPCStatus().Code() {
		case codes.Unavailable, codes.DeadlineExceeded:
			return true
		}
	}
	return false
}

// rootCause strips the "reading mount /x: " style prefixes added on the way
// up, which say nothing about why etcd was unreachable.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

func tlsHint(cfg autoradio.EtcdConfig) string {
	var https, plain bool
	for _, u := range cfg.Endpoints {
		if strings.HasPrefix(u, "https://") {
			https = true
		} else {
			plain = true
		}
	}
	switch {
	case plain && fileExists(cfg.CAFile):
		return "TLS is only used with https:// URLs; " + cfg.CAFile + " exists"
	case https && !fileExists(cfg.CAFile):
		return "https:// without --etcd-ca: the server certificate is checked against the system CAs"
	case https && !(fileExists(cfg.CertFile) && fileExists(cfg.KeyFile)):
		return "no client certificate: --etcd-cert/--etcd-key not found"
	}
	return ""
}

func fileExists(path string) bool {
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return err == nil
}
