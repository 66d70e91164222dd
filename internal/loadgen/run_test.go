package loadgen

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"autoradio/internal/tlstest"
)

// streamServer serves /stream at rate bytes/s in 100 ms chunks, for ever
// or until limit bytes; /redirect answers 302 to /stream; /broken 500.
func streamServer(t *testing.T, rate, limit int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(streamHandler(rate, limit))
	t.Cleanup(srv.Close)
	return srv
}

func streamHandler(rate, limit int) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/mpeg")
		chunk := make([]byte, rate/10)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		sent := 0
		for limit == 0 || sent < limit {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			sent += len(chunk)
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/stream", http.StatusFound)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	})
	return mux
}

// tlsStreamServer is streamServer over TLS, with a certificate of the
// returned CA.
func tlsStreamServer(t *testing.T, rate int) (*httptest.Server, *tlstest.CA) {
	t.Helper()
	ca := tlstest.NewCA(t, "loadgen test CA")
	certPEM, keyPEM := ca.Issue(t, time.Hour, "127.0.0.1")
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(streamHandler(rate, 0))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, ca
}

func run(t *testing.T, cfg Config) *Report {
	t.Helper()
	if testing.Short() {
		t.Skip("runs listeners for seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestRunFollowsRedirectsAndMeasures(t *testing.T) {
	const rate = 16000 // a 128 kbit/s stream
	srv := streamServer(t, rate, 0)
	rep := run(t, Config{
		URL: srv.URL + "/redirect", Listeners: 20, Rate: 40, Duration: 2 * time.Second,
		FollowRedirects: true,
		Watch:           []Process{{Name: "self", PIDs: []int{os.Getpid()}}},
	})
	if rep.Connected != 20 || rep.Kept != 20 || rep.Errors != 0 || rep.Disconnects != 0 {
		t.Fatalf("report: %+v", rep)
	}
	// Every listener got the stream's rate, within the 100 ms chunking.
	if b := rep.BytesPerSecond; b.N != 20 || b.Min < rate*0.7 || b.Max > rate*1.5 {
		t.Errorf("bytes/s per listener: %+v, want about %d", b, rate)
	}
	if rep.FirstByteSeconds.N != 20 || rep.FirstByteSeconds.Max > 1 {
		t.Errorf("first byte: %+v", rep.FirstByteSeconds)
	}
	if len(rep.Processes) != 1 || rep.Processes[0].RSSKiBAfter <= 0 {
		t.Errorf("processes: %+v", rep.Processes)
	}
	var out strings.Builder
	if err := rep.WriteText(&out); err != nil || !strings.Contains(out.String(), "20 kept") {
		t.Errorf("text report: %q, %v", out.String(), err)
	}
}

func TestRunCountsDisconnectsAndErrors(t *testing.T) {
	srv := streamServer(t, 10000, 3000)
	rep := run(t, Config{URL: srv.URL + "/stream", Listeners: 5, Duration: time.Second})
	if rep.Connected != 5 || rep.Kept != 0 || rep.Disconnects != 5 || rep.Errors != 0 {
		t.Errorf("ending streams: %+v", rep)
	}
	rep = run(t, Config{URL: srv.URL + "/broken", Listeners: 3, Retries: 1, Duration: 1500 * time.Millisecond})
	if rep.Connected != 0 || rep.Errors != 6 || len(rep.ErrorSamples) != 1 {
		t.Errorf("failing server, 1 retry each: %+v", rep)
	}
	rep = run(t, Config{URL: srv.URL + "/redirect", Listeners: 2, Duration: time.Second})
	if rep.Connected != 0 || rep.Errors != 2 {
		t.Errorf("redirect not followed: %+v", rep)
	}
}

func TestRunReconnects(t *testing.T) {
	srv := streamServer(t, 10000, 1000)
	rep := run(t, Config{URL: srv.URL + "/stream", Listeners: 2, Duration: 1500 * time.Millisecond, Reconnect: true})
	// Each stream lasts a chunk; reconnecting listeners see several.
	if rep.Disconnects < 4 || rep.Errors != 0 {
		t.Errorf("reconnecting: %+v", rep)
	}
}

func TestRunOverTLS(t *testing.T) {
	const rate = 16000
	srv, ca := tlsStreamServer(t, rate)
	cfg := Config{URL: srv.URL + "/stream", Listeners: 5, Duration: time.Second,
		TLS: &tls.Config{RootCAs: ca.Pool()}}
	if rep := run(t, cfg); rep.Kept != 5 || rep.Errors != 0 || rep.BytesPerSecond.Min < rate*0.7 {
		t.Errorf("over TLS with the test CA: %+v", rep)
	}
	// Without the CA the certificate is not trusted: every attempt fails.
	cfg.TLS = nil
	if rep := run(t, cfg); rep.Kept != 0 || rep.Errors != 5 {
		t.Errorf("over TLS without the test CA: %+v", rep)
	}
}

func TestValidate(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "ftp://x/y", Listeners: 1},
		{URL: "http:///y", Listeners: 1},
		{URL: "http://x/y", Listeners: 0},
		{URL: "http://x/y", Listeners: 1, Rate: -1},
	} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted it", cfg)
		}
	}
}
