package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"autoradio"
)

// clusterStatus is what status reads from etcd.
type clusterStatus struct {
	nodes     []*autoradio.NodeStatus
	master    *autoradio.MasterInfo
	masterErr error // other than ErrNoMaster: the election value is unreadable
	drains    []*autoradio.Drain
	cert      *autoradio.CertificateStatus // nil without ACME
}

func (a *app) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show nodes, master, listeners, load, drained nodes and the ACME certificate",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var s clusterStatus
			err := a.withClient(cmd, func(ctx context.Context, c *autoradio.Client) (err error) {
				if s.nodes, err = c.ListNodes(ctx); err != nil {
					return err
				}
				if s.drains, err = c.DrainedNodes(ctx); err != nil {
					return err
				}
				if s.cert, err = c.CertificateStatus(ctx); err != nil && !errors.Is(err, autoradio.ErrNoACME) {
					return err
				}
				s.master, err = c.Master(ctx)
				switch {
				case errors.Is(err, autoradio.ErrNoMaster):
				case err != nil && ctx.Err() != nil:
					return err
				default:
					s.masterErr = err
				}
				return nil
			})
			if err != nil {
				return err
			}
			return s.print(a.stdout, time.Now())
		},
	}
}

func (s *clusterStatus) print(w io.Writer, now time.Time) error {
	switch {
	case s.master != nil:
		fmt.Fprintf(w, "master: %s (%s)\n", s.master.Name, s.master.IcecastAddr())
	case s.masterErr != nil:
		fmt.Fprintf(w, "master: unreadable: %v\n", s.masterErr)
	default:
		fmt.Fprintln(w, "master: none elected")
	}
	s.printDrains(w)
	s.printCertificate(w, now)
	if len(s.nodes) == 0 {
		fmt.Fprintln(w, "no nodes")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tIPS\tICECAST\tLISTENERS\tBANDWIDTH (BIT/S)\tUPDATED")
	total := 0
	for _, n := range s.nodes {
		total += n.Listeners
		printNode(tw, n, s.drained(n.Name), now)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "total listeners: %d on %d nodes\n", total, len(s.nodes))
	return err
}

// printDrains lists the drained nodes, those that are not running too.
func (s *clusterStatus) printDrains(w io.Writer) {
	for _, d := range s.drains {
		live := slices.ContainsFunc(s.nodes, func(n *autoradio.NodeStatus) bool { return n.Name == d.Name })
		down := ""
		if !live {
			down = ", not running"
		}
		fmt.Fprintf(w, "drained: %s (since %s%s)\n", d.Name, d.Since.Local().Format(time.DateTime), down)
	}
}

// printCertificate describes the ACME certificate, if ACME is used.
func (s *clusterStatus) printCertificate(w io.Writer, now time.Time) {
	c := s.cert
	switch {
	case c == nil:
		return
	case len(c.Names) == 0:
		fmt.Fprintln(w, "certificate: none obtained yet")
	default:
		left := "EXPIRED"
		if c.NotAfter.After(now) {
			left = "in " + c.NotAfter.Sub(now).Round(time.Minute).String()
		}
		fmt.Fprintf(w, "certificate: %s, issued by %s, expires %s (%s)\n", strings.Join(c.Names, ","), c.Issuer,
			c.NotAfter.Local().Format(time.DateTime), left)
	}
	if c.Last != nil && c.Last.Error != "" {
		fmt.Fprintf(w, "certificate renewal failed: %s (by %s, %s)\n", c.Last.Error, c.Last.Node, c.Last.Time.Local().Format(time.DateTime))
	}
}

func (s *clusterStatus) drained(name string) bool {
	return slices.ContainsFunc(s.drains, func(d *autoradio.Drain) bool { return d.Name == name })
}

func printNode(w io.Writer, n *autoradio.NodeStatus, drained bool, now time.Time) {
	icecast := "down"
	if n.IcecastOK {
		icecast = "ok"
	}
	name := n.Name
	if n.IsMaster {
		name += " (master)"
	}
	switch {
	case drained:
		name += " (drained)"
	case n.Draining:
		name += " (stopping)"
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%d/%s\t%s/%s\t%s ago\n", name, strings.Join(n.IPs, ","), icecast,
		n.Listeners, limit(float64(n.MaxListeners), fmt.Sprint(n.MaxListeners)),
		bitrate(n.BandwidthBps), limit(n.BandwidthLimitBps, bitrate(n.BandwidthLimitBps)),
		now.Sub(n.UpdatedAt).Round(time.Second))
	for _, m := range n.Mounts {
		source := "no source"
		if m.SourceConnected {
			source = "source ok"
		}
		fmt.Fprintf(w, "  %s\t\t%s\t%d\t%s\n", m.Name, source, m.Listeners, kbps(m.BitrateKbps))
	}
}

func limit(v float64, s string) string {
	if v <= 0 {
		return "unlimited"
	}
	return s
}

// bitrate formats bits per second with an SI prefix.
func bitrate(bps float64) string {
	switch {
	case bps >= 1e9:
		return fmt.Sprintf("%.1fG", bps/1e9)
	case bps >= 1e6:
		return fmt.Sprintf("%.1fM", bps/1e6)
	case bps >= 1e3:
		return fmt.Sprintf("%.1fk", bps/1e3)
	}
	return fmt.Sprintf("%.0f", bps)
}

func kbps(k int) string {
	if k == 0 {
		return ""
	}
	return fmt.Sprintf("%d kbit/s", k)
}
