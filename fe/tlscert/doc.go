// Package tlscert holds the certificate that a front-end serves over
// HTTPS: a Store swapped atomically while connections keep being accepted
// (tls.Config.GetCertificate reads it), filled either from files that are
// watched for changes (WatchFiles) or by the cluster's ACME client (package
// fe/acme), and described for status pages and metrics.
package tlscert
