package coordination_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"autoradio/coordination"
	"autoradio/internal/etcdtest"
)

// TestMain fails the run if goroutines outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const ttl = 2 * time.Second

// logs records log messages, so that tests can check which path was taken;
// set COORDINATION_TEST_LOG=1 to also see them.
type logs struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logs) Enabled(context.Context, slog.Level) bool { return true }
func (l *logs) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logs) WithGroup(string) slog.Handler            { return l }
func (l *logs) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.msgs = append(l.msgs, b.String())
	l.mu.Unlock()
	if os.Getenv("COORDINATION_TEST_LOG") != "" {
		fmt.Fprintln(os.Stderr, time.Now().Format("15:04:05.000"), b.String())
	}
	return nil
}

// contains tells whether a logged line contains s.
func (l *logs) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.msgs, func(m string) bool { return strings.Contains(m, s) })
}

// quick returns options with short delays and a recording logger.
func quick() (*logs, []coordination.Option) {
	l := &logs{}
	return l, []coordination.Option{
		coordination.WithLogger(slog.New(l)),
		coordination.WithBackoff(50*time.Millisecond, 500*time.Millisecond),
		coordination.WithAttemptTimeout(time.Second),
	}
}

// testContext is bounded and ends with the test.
func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// goRun runs fn in a goroutine owned by the test: it is cancelled and
// waited for when the test ends. The returned channel yields fn's result.
func goRun(t *testing.T, fn func(ctx context.Context) error) (context.CancelFunc, <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		errc <- fn(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("goroutine did not stop within 10s of its context ending")
		}
	})
	return cancel, errc
}

// receive waits for a value on ch for at most d.
func receive[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("after %v: no %s", d, what)
		panic("unreachable")
	}
}

// newClient returns a quiet client that the test may close itself. It
// reconnects within a second of etcd coming back: gRPC's default back-off
// grows to minutes.
func newClient(t *testing.T, srv *etcdtest.Server) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   srv.Endpoints(),
		DialTimeout: 2 * time.Second,
		Logger:      zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: time.Second,
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// count tells how many logged lines contain s.
func (l *logs) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}
