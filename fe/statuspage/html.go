package statuspage

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The page's parts, embedded: it makes no request anywhere else.
var (
	//go:embed status.html
	pageHTML string
	//go:embed status.css
	pageCSS string
	//go:embed status.js
	pageJS string
)

// Size of a sparkline's drawing, in SVG user units.
const sparkW, sparkH = 300, 40

var pageTemplate = template.Must(template.New("status").Funcs(template.FuncMap{
	"mbps":  func(bps float64) string { return strconv.FormatFloat(bps/1e6, 'f', 1, 64) },
	"spark": sparkPoints,
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
}).Parse(pageHTML))

// pageData is what the template renders.
type pageData struct {
	Domain  string
	Status  Status
	History HistoryData
	Since   string // the time of the oldest sample
	CSS     template.CSS
	JS      template.JS
}

func (p *Page) serveHTML(w http.ResponseWriter, r *http.Request) {
	data := pageData{
		Domain: p.cfg.Domain, Status: p.Status(), History: p.hist.data(),
		CSS: template.CSS(pageCSS), JS: template.JS(pageJS),
	}
	if len(data.History.Points) > 0 {
		data.Since = time.Unix(data.History.Points[0].T, 0).Format("15:04")
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		p.log.Error("rendering the status page", "err", err)
		http.Error(w, "cannot render the status page", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	// Everything comes from this front-end, but the streams: a player
	// is redirected to the node that the load balancer picks.
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'self' 'unsafe-inline'; connect-src 'self'; media-src * blob:; img-src 'self' data:")
	w.Write(buf.Bytes())
}

// sparkPoints draws the listeners of mount ("" for all together) in the
// history as the points of an SVG polyline, sparkW by sparkH, oldest on
// the left; the highest value touches the top. status.js draws the same.
func sparkPoints(d HistoryData, mount string) string {
	pts := d.Points
	if len(pts) == 0 {
		return ""
	}
	value := func(p Point) int {
		if mount == "" {
			return p.Total
		}
		return p.Mounts[mount]
	}
	peak := 1
	for _, p := range pts {
		peak = max(peak, value(p))
	}
	t0, span := pts[0].T, max(pts[len(pts)-1].T-pts[0].T, 1)
	var b strings.Builder
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		x := float64(p.T-t0) * sparkW / float64(span)
		y := sparkH - float64(value(p))*(sparkH-2)/float64(peak) - 1
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(y, 'f', 1, 64))
	}
	return b.String()
}
