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

// CheckEtcdFlags checks the etcd flags of fs, which AddEtcdFlags defined
// and cfg holds, before anything connects: a TLS file named on the command
// line or in the environment must exist, the URLs must not mix http://
// and https://, and named TLS files need https:// URLs (the etcd client
// would connect in plain text). TLS files found at their default paths
// beside http:// URLs are only a warning, which it returns.
func CheckEtcdFlags(fs *pflag.FlagSet, cfg autoradio.EtcdConfig) (warning string, err error) {
	named := map[string]string{"etcd-ca": cfg.CAFile, "etcd-cert": cfg.CertFile, "etcd-key": cfg.KeyFile}
	var given []string
	for _, flag := range []string{"etcd-ca", "etcd-cert", "etcd-key"} {
		file := named[flag]
		if !fs.Changed(flag) || file == "" {
			continue
		}
		if _, err := os.Stat(file); err != nil {
			return "", fmt.Errorf("--%s: %w", flag, err)
		}
		given = append(given, "--"+flag)
	}
	https, plain := schemes(cfg.Endpoints)
	switch {
	case https && plain:
		return "", fmt.Errorf("--etcd-urls %s: mixes http:// and https:// URLs", strings.Join(cfg.Endpoints, ","))
	case plain && len(given) > 0:
		return "", fmt.Errorf("%s given, but the etcd URLs are http://: TLS is only used with https:// URLs", strings.Join(given, ", "))
	case plain && fileExists(cfg.CAFile):
		return fmt.Sprintf("%s exists, but the etcd URLs are http://: connecting without TLS", cfg.CAFile), nil
	}
	return "", nil
}

// schemes tells whether urls has https:// ones and other ones.
func schemes(urls []string) (https, plain bool) {
	for _, u := range urls {
		if strings.HasPrefix(u, "https://") {
			https = true
		} else {
			plain = true
		}
	}
	return https, plain
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
	https, plain := schemes(cfg.Endpoints)
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
