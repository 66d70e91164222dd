package child

import (
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"autoradio/internal/testenv"
)

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct{ testenv.Buffer }

func (b *syncBuffer) contains(s string) bool { return strings.Contains(b.String(), s) }

// records decodes the JSON log records written so far.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

func TestOutputForwardedAndRedacted(t *testing.T) {
	dir := t.TempDir()
	logs := &syncBuffer{}
	cfg := shell(dir, `echo "hello password=s3cret"; echo oops >&2; `+
		`head -c 10000 /dev/zero | tr '\0' x; echo; touch up; exec sleep 1000`)
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	cfg.LogArgs = true
	cfg.Redact = func(s string) string { return strings.ReplaceAll(s, "s3cret", "****") }
	cfg.Ready = fileExists(filepath.Join(dir, "up"))
	r := start(t, cfg)
	r.rec.waitCount(t, Ready, 1, 5*time.Second)
	r.stop(t)

	if strings.Contains(logs.String(), "s3cret") {
		t.Fatalf("secret leaked into the log:\n%s", logs.String())
	}
	// Streams are read concurrently: order holds within a stream only.
	lines := map[string][]string{}
	for _, rec := range logs.records(t) {
		if rec["component"] != "test-child" {
			t.Errorf("record without component=test-child: %v", rec)
		}
		if stream, ok := rec["stream"].(string); ok {
			lines[stream] = append(lines[stream], rec["msg"].(string))
		}
	}
	long := strings.Repeat("x", maxLine)
	want := map[string][]string{
		"stdout": {"hello password=****", long, long, strings.Repeat("x", 10000-2*maxLine)},
		"stderr": {"oops"},
	}
	for stream, w := range want {
		if got := lines[stream]; strings.Join(got, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s: forwarded %d lines %.200q, want %d lines %.200q", stream, len(got), got, len(w), w)
		}
	}
}
