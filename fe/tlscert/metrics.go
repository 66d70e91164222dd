package tlscert

import "github.com/prometheus/client_golang/prometheus"

var expiryDesc = prometheus.NewDesc(
	"autoradio_tls_certificate_expiry_timestamp_seconds",
	"When the certificate served over HTTPS expires (Unix time); absent while there is none.",
	nil, nil)

// collector exports the expiry of the certificate of the moment, read at
// scrape time.
type collector struct{ s *Store }

func (c *collector) Describe(ch chan<- *prometheus.Desc) { ch <- expiryDesc }

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	cert := c.s.Certificate()
	if cert == nil || cert.Leaf == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(expiryDesc, prometheus.GaugeValue, float64(cert.Leaf.NotAfter.Unix()))
}
