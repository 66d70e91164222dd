package httpfe

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"autoradio"
	"autoradio/fe/authguard"
	"autoradio/internal/testenv"
)

// TestLiveGuessing guesses a source password through the front-end, from
// 127.0.0.1, against a real Icecast: after authguard's default number of
// 401s the address gets 429 without Icecast being asked, even with the
// right password, while the right password from 127.0.0.2 gets in at once.
func TestLiveGuessing(t *testing.T) {
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := startLiveLog(t, Config{}, log, "/guarded.ogg")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	attacker, other := net.ParseIP("127.0.0.1"), net.ParseIP("127.0.0.2")

	const guesses = 60
	codes := map[int]int{}
	start := time.Now()
	for i := range guesses {
		code, retry := env.sourceFrom(ctx, t, attacker, "/guarded.ogg", basicAuth(srcUser, fmt.Sprint("guess", i)))
		codes[code]++
		want := http.StatusUnauthorized
		if i >= authguard.DefaultMaxFailures {
			want = http.StatusTooManyRequests
		}
		if code != want {
			t.Fatalf("guess %d: %d, want %d", i+1, code, want)
		}
		if code == http.StatusTooManyRequests && (retry < 1 || retry > int(authguard.DefaultLockout.Seconds())) {
			t.Errorf("guess %d: Retry-After %d, want 1 to %v", i+1, retry, authguard.DefaultLockout)
		}
	}
	t.Logf("%d guesses in %v: %v", guesses, time.Since(start).Round(time.Millisecond), codes)

	if code, _ := env.sourceFrom(ctx, t, attacker, "/guarded.ogg", basicAuth(srcUser, srcPass)); code != http.StatusTooManyRequests {
		t.Errorf("right password from the locked-out address: %d, want 429", code)
	}
	if code, _ := env.sourceFrom(ctx, t, other, "/guarded.ogg", basicAuth(srcUser, srcPass)); code != http.StatusOK {
		t.Errorf("right password from another address: %d, want 200", code)
	}

	refused := env.parallelGuesses(ctx, t, net.ParseIP("127.0.0.3"), "/guarded.ogg")

	// A request is counted once its handler returns, which may be after
	// the client read its answer.
	testenv.Eventually(t, 5*time.Second, func() error {
		for _, m := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"autoradio_source_auth_failures_total", nil, 2 * authguard.DefaultMaxFailures},
			{"autoradio_source_lockouts_total", nil, 2},
			{"autoradio_source_connections_total", []string{"result", "rejected"}, 2 * authguard.DefaultMaxFailures},
			{"autoradio_source_connections_total", []string{"result", "locked_out"}, guesses - authguard.DefaultMaxFailures + 1 + refused},
			{"autoradio_source_connections_total", []string{"result", "accepted"}, 1},
		} {
			if v := metricValue(t, env.reg, m.name, m.labels...); v != m.want {
				return fmt.Errorf("%s%v = %v, want %v", m.name, m.labels, v, m.want)
			}
		}
		return nil
	})
	if n := logs.lines(slog.LevelWarn); n != 2 {
		t.Errorf("%d warnings logged, want 2 (the lockouts)", n)
	}
	if n := logs.lines(slog.LevelInfo); n > 2 {
		t.Errorf("%d info lines logged, want at most 2 (the accepted source's)", n)
	}
	for _, secret := range []string{"guess", srcPass, "Basic "} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// parallelGuesses sends as many guesses as TestLiveGuessing's sequential
// ones from ip, all at once: no more of them than a sequence may reach
// Icecast, since attempts awaiting their answer count against the limit.
// It returns how many were refused.
func (env *liveEnv) parallelGuesses(ctx context.Context, t *testing.T, ip net.IP, mount string) float64 {
	const guesses = 60
	codes := make(chan int, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			code, _ := env.sourceFrom(ctx, t, ip, mount, basicAuth(srcUser, fmt.Sprint("parallel", i)))
			codes <- code
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	t.Logf("%d parallel guesses: %v", guesses, count)
	if count[http.StatusUnauthorized] > authguard.DefaultMaxFailures ||
		count[http.StatusUnauthorized]+count[http.StatusTooManyRequests] != guesses {
		t.Errorf("%d parallel guesses answered %v, want at most %d 401s and 429s for the rest",
			guesses, count, authguard.DefaultMaxFailures)
	}
	// Parallel attempts may be refused while the last ones are pending:
	// go on until the lockout.
	for i := 0; metricValue(t, env.reg, "autoradio_source_lockouts_total") < 2; i++ {
		if i == guesses {
			t.Fatalf("no lockout of %s after %d more guesses", ip, guesses)
		}
		env.sourceFrom(ctx, t, ip, mount, basicAuth(srcUser, fmt.Sprint("more", i)))
	}
	return float64(count[http.StatusTooManyRequests])
}

// sourceFrom sends a PUT source request for mount from the local address
// ip and returns the final status code and its Retry-After (0: none). The
// connection stays open until the test ends, so that an accepted source
// stays on its mount.
func (env *liveEnv) sourceFrom(ctx context.Context, t *testing.T, ip net.IP, mount, auth string) (int, int) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", env.fe)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/ogg\r\nExpect: 100-continue\r\n\r\n",
		mount, env.fe, auth)
	br := bufio.NewReader(conn)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading the answer to PUT: %v", err)
		}
		if resp.StatusCode >= 200 {
			if resp.StatusCode != http.StatusOK {
				resp.Body.Close()
				conn.Close()
			}
			retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			return resp.StatusCode, retry
		}
	}
}

// logBuffer collects a logger's text output, for tests that check what is
// logged.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines returns the lines logged at level.
func (l *logBuffer) lines(level slog.Level) int {
	return strings.Count(l.String(), "level="+level.String()+" ")
}

// A master that refuses a source's right credentials (it has not applied
// the mount's configuration yet: a new mount, a new master) is no guess:
// the front-end checked them, and the address is never locked out for it.
// Once the source has been held in vain, Icecast's 401 is passed on.
func TestLiveMasterRefusalIsNoGuess(t *testing.T) {
	env := startLive(t, Config{SourceGuard: authguard.Config{MaxFailures: 2}, SourceHold: 300 * time.Millisecond}, "/known.ogg")
	ctx := testenv.Context(t, 60*time.Second)
	env.cluster.mu.Lock()
	env.cluster.mounts["/new.ogg"] = &autoradio.Mount{Name: "/new.ogg", Username: srcUser, Password: srcPass}
	env.cluster.mu.Unlock()
	source := net.ParseIP("127.0.0.4")
	for i := range 5 {
		if code, _ := env.sourceFrom(ctx, t, source, "/new.ogg", basicAuth(srcUser, srcPass)); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d on a mount the master does not know: %d, want Icecast's 401", i+1, code)
		}
	}
	if code, _ := env.sourceFrom(ctx, t, source, "/known.ogg", basicAuth(srcUser, srcPass)); code != http.StatusOK {
		t.Errorf("then a known mount from the same address: %d, want 200", code)
	}
	if v := metricValue(t, env.reg, "autoradio_source_auth_failures_total"); v != 0 {
		t.Errorf("auth failures counted: %v, want 0", v)
	}
}
