package node

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"time"

	"autoradio"
	"autoradio/coordination"
	"autoradio/node/transcode"
)

// debugView is what /debug/ shows of the node. No password is in it.
type debugView struct {
	Name        string
	Role        string
	Master      string
	IcecastUp   bool
	Mounts      []autoradio.MountStatus
	Listeners   int
	Bandwidth   float64
	LastReload  time.Time
	LastEtcdErr string
	LastEtcdAt  time.Time
	// Transcoders are those this node runs; Runners is who runs each
	// transcoding mount in the cluster, as etcd says.
	Transcoders []transcode.Status
	Runners     []runner
}

// runner is the node that leads a transcoding mount's election.
type runner struct{ Mount, Node string }

var debugPage = template.Must(template.New("debug").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>radiod {{.Name}}</title></head><body>
<h1>radiod {{.Name}}</h1>
<p>Role: <b>{{.Role}}</b>. Master: {{.Master}}. Icecast up: {{.IcecastUp}}.
Listeners: {{.Listeners}}. Bandwidth: {{printf "%.0f" .Bandwidth}} bit/s.</p>
<p>Last config change: {{if .LastReload.IsZero}}never{{else}}{{.LastReload.Format "2006-01-02 15:04:05 MST"}}{{end}}.
Last etcd error: {{if .LastEtcdErr}}{{.LastEtcdErr}} at {{.LastEtcdAt.Format "15:04:05"}}{{else}}none{{end}}.</p>
<table border="1" cellpadding="4"><tr><th>mount</th><th>listeners</th><th>source</th><th>kbit/s</th><th>title</th></tr>
{{range .Mounts}}<tr><td>{{.Name}}</td><td>{{.Listeners}}</td><td>{{.SourceConnected}}</td><td>{{.BitrateKbps}}</td><td>{{.Title}}</td></tr>
{{else}}<tr><td colspan="5">no mounts</td></tr>{{end}}</table>
<h2>Transcoders on this node</h2>
<table border="1" cellpadding="4"><tr><th>mount</th><th>source</th><th>codec</th><th>pushing to</th><th>pid</th><th>state</th><th>since</th><th>restarts</th></tr>
{{range .Transcoders}}<tr><td>{{.Mount}}</td><td>{{.Source}}</td><td>{{.Codec}}</td><td>{{.Master}}</td><td>{{.PID}}</td><td>{{.State}}</td><td>{{.Since.Format "15:04:05"}}</td><td>{{.Restarts}}</td></tr>
{{else}}<tr><td colspan="8">none</td></tr>{{end}}</table>
<h2>Transcoders in the cluster</h2>
<table border="1" cellpadding="4"><tr><th>mount</th><th>run by</th></tr>
{{range .Runners}}<tr><td>{{.Mount}}</td><td>{{.Node}}</td></tr>
{{else}}<tr><td colspan="2">no transcoding mounts</td></tr>{{end}}</table>
</body></html>
`))

func (n *Node) debugView(ctx context.Context) debugView {
	r := n.state.role(n.cfg.Name)
	v := debugView{Name: n.cfg.Name, Role: "relay", Master: "unknown"}
	switch {
	case r.isMaster:
		v.Role, v.Master = "master", n.cfg.Name
	case r.master != nil:
		v.Master = r.master.Name
	}
	if n.state.draining() {
		v.Role += ", draining (drained or stopping)"
	}
	v.LastReload = n.icecast.Stats().Changed
	v.LastEtcdErr, v.LastEtcdAt = n.state.lastEtcdError()
	if st := n.status.Current(); st != nil {
		v.IcecastUp, v.Mounts, v.Listeners, v.Bandwidth = st.IcecastOK, st.Mounts, st.Listeners, st.BandwidthBps
	}
	v.Transcoders = n.transcoders.Transcoders()
	v.Runners = n.transcoderRunners(ctx, r.mounts)
	return v
}

// transcoderRunners asks etcd who leads each transcoding mount's election.
func (n *Node) transcoderRunners(ctx context.Context, mounts []*autoradio.Mount) []runner {
	var out []runner
	for _, m := range mounts {
		if m.Transcoding == nil {
			continue
		}
		r := runner{Mount: m.Name, Node: "nobody"}
		lctx, cancel := context.WithTimeout(ctx, time.Second)
		leader, err := coordination.Leader(lctx, n.etcd, autoradio.TranscoderElection(m.Name))
		cancel()
		var c struct{ Name string }
		switch {
		case errors.Is(err, coordination.ErrNoLeader):
		case err != nil:
			r.Node = "unknown: " + err.Error()
		case leader != nil && json.Unmarshal(leader, &c) == nil:
			r.Node = c.Name
		}
		out = append(out, r)
	}
	return out
}

// DebugHandler serves the node's view as an HTML page.
func (n *Node) DebugHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := debugPage.Execute(w, n.debugView(r.Context())); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}

// Healthy reports whether the node serves: its Icecast answers.
func (n *Node) Healthy() error {
	if !n.icecast.Up() {
		return errors.New("icecast is not up")
	}
	return nil
}
