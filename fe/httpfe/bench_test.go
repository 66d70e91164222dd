package httpfe

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"autoradio"
)

// discardWriter is a reusable ResponseWriter, so that the benchmark measures
// the handler rather than httptest.
type discardWriter struct {
	hdr  http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.hdr }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

func BenchmarkRedirect(b *testing.B) {
	h, _ := newTestHandler(b, Config{HTTPPort: 80}, testCluster())
	r := httptest.NewRequest(http.MethodGet, "/live.ogg?x=1", nil)
	w := &discardWriter{hdr: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.hdr)
		h.ServeHTTP(w, r)
		if w.code != http.StatusFound {
			b.Fatalf("code %d", w.code)
		}
	}
}

// measureStreamMemory opens n listeners straight to Icecast, then n through
// the front-end's /_stream/, and reports the extra heap and stack that the
// front-end uses per proxied stream. The listeners run in this process
// either way, so their own cost cancels out.
func (env *liveEnv) measureStreamMemory(ctx context.Context, t *testing.T, mount string, n int) {
	waitFor(ctx, t, "no listeners", func() bool { return env.ic.listeners(mount) == 0 })
	base := memInUse()
	direct := openListeners(ctx, t, env.ic.addr, mount, n)
	withDirect := memInUse()
	direct.close()
	waitFor(ctx, t, "no listeners", func() bool { return env.ic.listeners(mount) == 0 })
	base2 := memInUse()
	proxied := openListeners(ctx, t, env.fe, "/_stream"+mount, n)
	waitFor(ctx, t, fmt.Sprintf("%d proxied streams", n), func() bool {
		return metricValue(t, env.reg, "autoradio_proxied_streams") == float64(n)
	})
	withProxy := memInUse()
	proxied.close()
	ch, cs := base.perStream(withDirect, n)
	th, ts := base2.perStream(withProxy, n)
	t.Logf("%d listeners: client side %.1f KiB each (heap %.1f, stacks %.1f); through the front-end %.1f KiB each; "+
		"the front-end costs %.1f KiB per proxied stream (heap %.1f, stacks %.1f)",
		n, ch+cs, ch, cs, th+ts, th+ts-ch-cs, th-ch, ts-cs)
	waitFor(ctx, t, "proxied streams to end", func() bool {
		return metricValue(t, env.reg, "autoradio_proxied_streams") == 0
	})
}

// memInUse returns heap and stack in use after a collection.
func memInUse() memUse {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memUse{heap: int64(ms.HeapInuse), stack: int64(ms.StackInuse)}
}

type memUse struct{ heap, stack int64 }

// perStream returns the growth from m to after, per stream, in KiB.
func (m memUse) perStream(after memUse, n int) (heap, stack float64) {
	return float64(after.heap-m.heap) / float64(n) / 1024, float64(after.stack-m.stack) / float64(n) / 1024
}

// listeners are raw, frugal stream readers: one goroutine and a 512-byte
// buffer each.
type listeners struct {
	conns []net.Conn
	wg    sync.WaitGroup
}

// openListeners connects n listeners to path on addr and waits until each
// has received audio. Icecast answers a new Ogg listener only at the next
// page, so the answers are awaited concurrently.
func openListeners(ctx context.Context, t testing.TB, addr, path string, n int) *listeners {
	ls := &listeners{}
	t.Cleanup(ls.close)
	var got atomic.Int64
	for range n {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		ls.conns = append(ls.conns, conn)
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: memtest\r\n\r\n", path, addr)
		ls.wg.Add(1)
		go func() {
			defer ls.wg.Done()
			listen(conn, func() { got.Add(1) })
		}()
	}
	waitFor(ctx, t, "audio on every listener", func() bool { return got.Load() == int64(n) })
	return ls
}

// listen reads a stream until its connection closes, calling onAudio once
// it has a 200 answer and some audio.
func listen(conn net.Conn, onAudio func()) {
	br := bufio.NewReaderSize(conn, 512)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	head, err := http.ReadResponse(br, nil)
	if err != nil || head.StatusCode != http.StatusOK {
		return
	}
	if _, err := head.Body.Read(make([]byte, 1)); err != nil {
		return
	}
	conn.SetReadDeadline(time.Time{})
	onAudio()
	io.Copy(io.Discard, head.Body)
}

func (ls *listeners) close() {
	for _, c := range ls.conns {
		c.Close()
	}
	ls.conns = nil
	ls.wg.Wait()
}

// BenchmarkProxiedListeners measures what the front-end holds per proxied
// listener: 1,000 listeners of one mount fed by an in-process upstream of
// 128 kbit/s. The listeners' own cost is measured first, with as many
// listeners of a server that just holds their connections, and subtracted.
// The CPU figure is the whole process (listeners and upstream included)
// over 10 s of streaming: an upper bound of the front-end's.
func BenchmarkProxiedListeners(b *testing.B) {
	const n = 1000
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	up := servePaced(b, 128_000/8)
	c := newFakeCluster(&autoradio.Mount{Name: "/bench.mp3"})
	s, reg := startServer(b, Config{LocalIcecast: up, MaxProxiedListeners: -1}, c)
	hold := serveHeld(b)
	for range b.N {
		base := memInUse()
		held := openListeners(ctx, b, hold, "/", n)
		withHeld := memInUse()
		held.close()
		base2 := memInUse()
		proxied := openListeners(ctx, b, s.Addr().String(), "/_stream/bench.mp3", n)
		waitFor(ctx, b, "every proxied stream", func() bool {
			return metricValue(b, reg, "autoradio_proxied_streams") == n
		})
		withProxy := memInUse()
		cpu := cpuTime()
		start := time.Now()
		time.Sleep(10 * time.Second) // streaming for the CPU figure
		cpu = (cpuTime() - cpu) / time.Since(start).Minutes() / n
		proxied.close()
		ch, cs := base.perStream(withHeld, n)
		ph, ps := base2.perStream(withProxy, n)
		b.ReportMetric((ph+ps)-(ch+cs), "KiB/listener")
		b.ReportMetric(ph-ch, "heap-KiB/listener")
		b.ReportMetric(ps-cs, "stack-KiB/listener")
		b.ReportMetric(cpu, "process-CPU-s/listener-minute")
		b.Logf("%d listeners: %.1f KiB each with the front-end, %.1f KiB without it; upstreams %v; process CPU %.4f s per listener-minute",
			n, ph+ps, ch+cs, metricValue(b, reg, "autoradio_proxied_upstreams"), cpu)
	}
}

// cpuTime returns the CPU time used by the process so far, in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// servePaced serves, to every request, an endless audio/mpeg response of
// rate bytes a second in writes of ten 128 kbit/s MP3 frames (silent: a
// header and zeros), until the test ends; it returns its address.
func servePaced(tb testing.TB, rate int) string {
	const frameLen = 417 // MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding
	chunk := make([]byte, 10*frameLen)
	for i := 0; i < len(chunk); i += frameLen {
		copy(chunk[i:], []byte{0xFF, 0xFB, 0x90, 0x00})
	}
	return serveConns(tb, func(conn net.Conn) {
		io.WriteString(conn, "HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\nicy-br: 128\r\n\r\n")
		t := time.NewTicker(time.Second * time.Duration(len(chunk)) / time.Duration(rate))
		defer t.Stop()
		for range t.C {
			if _, err := conn.Write(chunk); err != nil {
				return
			}
		}
	})
}

// serveHeld answers every request with a head and 1 KiB, then holds the
// connection without a goroutine until the test ends; it returns its
// address.
func serveHeld(tb testing.TB) string {
	var mu sync.Mutex
	var held []net.Conn
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return serveConns(tb, func(conn net.Conn) {
		io.WriteString(conn, "HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n"+string(make([]byte, 1<<10)))
		mu.Lock()
		held = append(held, conn)
		mu.Unlock()
	})
}

// serveConns accepts connections on 127.0.0.1 and, for each, reads a
// request head and calls serve in a goroutine. Connections are closed when
// the test ends.
func serveConns(tb testing.TB, serve func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[conn] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := http.ReadRequest(bufio.NewReader(conn)); err == nil {
					serve(conn)
				}
			}()
		}
	}()
	return ln.Addr().String()
}
