package instrumentation

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"autoradio/instrumentation/metricstest"
)

func TestRegistryHasRuntimeMetricsAndLints(t *testing.T) {
	reg := NewRegistry()
	metricstest.Lint(t, reg)
	if v := metricstest.Value(t, reg, "go_goroutines"); v < 1 {
		t.Errorf("go_goroutines = %v", v)
	}
	if v := metricstest.Value(t, reg, "process_resident_memory_bytes"); v <= 0 {
		t.Errorf("process_resident_memory_bytes = %v", v)
	}
}

// get fetches url and returns status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// serve runs Serve on a loopback port until the test ends.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	})
	return "http://" + ln.Addr().String()
}

func TestMonitorMux(t *testing.T) {
	reg := NewRegistry()
	up := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "icecast_up", Help: "Icecast answers."})
	reg.MustRegister(up)
	up.Set(1)
	var unhealthy atomic.Bool
	base := serve(t, NewMonitorMux(MonitorConfig{
		Gatherer: reg,
		Health: func(context.Context) error {
			if unhealthy.Load() {
				return errors.New("icecast down")
			}
			return nil
		},
		Debug: map[string]http.Handler{"state": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "state dump")
		})},
	}))

	tests := []struct {
		path     string
		code     int
		contains string
	}{
		{"/metrics", 200, "autoradio_icecast_up 1"},
		{"/metrics", 200, "go_goroutines"},
		{"/healthz", 200, "ok"},
		{"/debug/", 200, "/debug/state"},
		{"/debug/state", 200, "state dump"},
		{"/debug/pprof/", 200, "goroutine"},
		{"/nothing", 404, ""},
	}
	for _, tt := range tests {
		code, body := get(t, base+tt.path)
		if code != tt.code || !strings.Contains(body, tt.contains) {
			t.Errorf("GET %s: %d %.200q, want %d containing %q", tt.path, code, body, tt.code, tt.contains)
		}
	}
	unhealthy.Store(true)
	if code, body := get(t, base+"/healthz"); code != 503 || !strings.Contains(body, "icecast down") {
		t.Errorf("unhealthy /healthz: %d %q, want 503 with the reason", code, body)
	}
}

func TestHealthTimeout(t *testing.T) {
	base := serve(t, NewMonitorMux(MonitorConfig{
		HealthTimeout: 50 * time.Millisecond,
		Health: func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		},
	}))
	if code, body := get(t, base+"/healthz"); code != 503 || !strings.Contains(body, "deadline") {
		t.Errorf("hung health check: %d %q, want 503 after the timeout", code, body)
	}
}

func TestListenAndServeBadAddress(t *testing.T) {
	err := ListenAndServe(context.Background(), "127.0.0.1:-1", http.NotFoundHandler())
	if err == nil || !strings.Contains(err.Error(), "monitor: listen") {
		t.Errorf("ListenAndServe on a bad address: %v", err)
	}
}
