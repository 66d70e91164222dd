package fanout

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"autoradio/internal/audioframe"
	"autoradio/internal/testenv"
)

// readSeed returns seconds of a tone over noise (nothing in it repeats)
// encoded by ffmpeg as name's extension says: MP3, ADTS or Ogg Opus.
func readSeed(t *testing.T, name string, seconds int) []byte {
	t.Helper()
	testenv.RequireBinaries(t, "ffmpeg")
	args := map[string][]string{
		".mp3":  {"-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"},
		".aac":  {"-c:a", "aac", "-b:a", "64k", "-f", "adts"},
		".opus": {"-c:a", "libopus", "-b:a", "64k", "-f", "ogg"},
	}[filepath.Ext(name)]
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-v", "error", "-f", "lavfi", "-i",
		"sine=frequency=440:sample_rate=44100[s];anoisesrc=color=pink:amplitude=0.1:sample_rate=44100:seed=7[n];[s][n]amix=inputs=2",
		"-t", strconv.Itoa(seconds), "-id3v2_version", "0", "-write_xing", "0"}, append(args, "-")...)...)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	return b
}

// splice feeds old, then (after restart) new to a splicer in pieces of
// 1000 bytes, the clock at now, and returns what it passed on and how
// the new data was placed.
func splice(s *splicer, old, new []byte, now time.Time) ([]byte, string) {
	var out []byte
	for p := range pieces(old) {
		o, _ := s.take(p, now)
		out = append(out, o...)
	}
	s.restart()
	how := ""
	for p := range pieces(new) {
		o, h := s.take(p, now)
		out = append(out, o...)
		how = h + how
	}
	return out, how
}

func pieces(b []byte) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			n := min(1000, len(b))
			if !yield(b[:n]) {
				return
			}
			b = b[n:]
		}
	}
}

func TestSplicerOverlap(t *testing.T) {
	seed := readSeed(t, "seed.mp3", 20)
	s := &splicer{kind: kindMP3}
	// The new connection repeats the last 5,000 bytes, like a burst.
	out, how := splice(s, seed[:20000], seed[15000:], time.Now())
	if how != splicedOverlap || !bytes.Equal(out, seed) {
		t.Errorf("spliced %d bytes (%s), want the %d of the stream, seamless", len(out), how, len(seed))
	}
}

// oggMaxPage is the length of the longest Ogg page.
const oggMaxPage = audioframe.OggHeaderLen + 255 + 255*255

func TestSplicerJoin(t *testing.T) {
	for _, c := range []struct {
		seed  string
		kind  streamKind
		start func([]byte) bool
	}{
		{"seed.mp3", kindMP3, func(p []byte) bool { return audioframe.MP3Len([4]byte(p)) > 0 }},
		{"seed.aac", kindADTS, func(p []byte) bool { return audioframe.ADTSLen(p) > 0 }},
		{"seed.opus", kindOgg, func(p []byte) bool { return audioframe.OggPageLen(p) > 0 && p[5] == 0 }},
	} {
		t.Run(c.seed, func(t *testing.T) {
			seed := readSeed(t, c.seed, 20)
			s := &splicer{kind: c.kind}
			now := time.Now()
			// A gap: the new connection starts mid-frame after the old end;
			// of its burst, only recent audio goes on.
			for p := range pieces(seed[:10000]) {
				s.take(p, now)
			}
			s.restart()
			if out, how := s.take(seed[12345:13000], now); out != nil || how != "" {
				t.Fatalf("placed %d bytes (%q) before the search ended", len(out), how)
			}
			out, how := s.take(seed[13000:], now.Add(spliceWait))
			if how != splicedJoin || len(out) == 0 || !c.start(out) {
				t.Fatalf("placed %d bytes (%q) starting % x, want a join at a frame or page", len(out), how, out[:min(8, len(out))])
			}
			if !bytes.HasSuffix(seed, out) || len(out) > spliceRecent || len(out) < spliceRecent-oggMaxPage {
				t.Errorf("placed %d bytes, not the end of the stream from a join point in its last %d", len(out), spliceRecent)
			}
		})
	}
}

func TestIcyRemux(t *testing.T) {
	audio := bytes.Repeat([]byte("0123456789"), 100)
	title := func(s string) []byte {
		n := (len(s) + 15) / 16
		b := append([]byte{byte(n)}, s...)
		return append(b, make([]byte, 1+16*n-len(b))...)
	}
	m := newIcyMux(64)
	var stream []byte
	m.title(title("StreamTitle='a';"))
	stream = m.mux(stream, audio[:500])
	m.title(title("StreamTitle='a';")) // the same again: not resent
	m.title(title("StreamTitle='b';"))
	stream = m.mux(stream, audio[500:])
	var gotAudio []byte
	var titles []string
	d := newIcyDemux(64)
	for p := range pieces(stream) {
		d.split(p[:len(p)/2], func(a []byte) { gotAudio = append(gotAudio, a...) }, func(b []byte) { titles = append(titles, string(bytes.TrimRight(b[1:], "\x00"))) })
		d.split(p[len(p)/2:], func(a []byte) { gotAudio = append(gotAudio, a...) }, func(b []byte) { titles = append(titles, string(bytes.TrimRight(b[1:], "\x00"))) })
	}
	if !bytes.Equal(gotAudio, audio) {
		t.Errorf("audio through mux and demux differs")
	}
	if fmt.Sprint(titles) != "[StreamTitle='a'; StreamTitle='b';]" {
		t.Errorf("titles %q, want a then b, once each", titles)
	}
	if want := len(audio) + len(audio)/64 + 2*16; len(stream) != want {
		t.Errorf("muxed %d bytes, want %d", len(stream), want)
	}
}

// liveUpstream plays data as a live Icecast mount would: the stream
// advances with the clock (live), and each new client first gets a burst
// of the last burst bytes, then the stream as it comes, with Icy metadata
// every metaint bytes when it asks for it. Down, it refuses clients and
// cuts the ones it has.
type liveUpstream struct {
	data    []byte
	live    func() int
	burst   int
	metaint int

	mu      sync.Mutex
	down    bool
	stalled bool // sends nothing, as a relay whose master is cut off
	conns   []net.Conn
	opens   int
	active  int // clients being sent the stream
}

// streaming returns how many clients are being sent the stream.
func (u *liveUpstream) streaming() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.active
}

// opened returns how many clients it accepted.
func (u *liveUpstream) opened() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.opens
}

func (u *liveUpstream) setStalled(stalled bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stalled = stalled
}

func (u *liveUpstream) isStalled() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.stalled
}

func (u *liveUpstream) setDown(down bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.down = down
	if down {
		for _, c := range u.conns {
			c.Close()
		}
		u.conns = nil
	}
}

func (u *liveUpstream) Open(ctx context.Context, mount string, icy bool) (*Response, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.down {
		return nil, fmt.Errorf("connection refused")
	}
	u.opens++
	u.active++
	feedSide, upSide := net.Pipe()
	u.conns = append(u.conns, upSide)
	hdr := http.Header{"Content-Type": {"audio/mpeg"}}
	var mux *icyMux
	if icy {
		hdr.Set("Icy-MetaInt", strconv.Itoa(u.metaint))
		mux = newIcyMux(u.metaint)
		mux.title([]byte("\x01StreamTitle='t';"))
	}
	go func() {
		defer func() {
			upSide.Close()
			u.mu.Lock()
			u.active--
			u.mu.Unlock()
		}()
		pos := max(0, u.live()-u.burst)
		for ctx.Err() == nil && pos < len(u.data) {
			end := min(u.live(), len(u.data))
			if u.isStalled() {
				pos = end
			}
			if end > pos {
				p := u.data[pos:end]
				if mux != nil {
					p = mux.mux(nil, p)
				}
				if _, err := upSide.Write(p); err != nil {
					return
				}
				pos = end
			}
			time.Sleep(5 * time.Millisecond)
		}
		<-ctx.Done()
	}()
	context.AfterFunc(ctx, func() { feedSide.Close() })
	return &Response{Status: http.StatusOK, Header: hdr, Body: feedSide}, nil
}

// TestFeedMovesSeamlessly: a feed whose local Icecast does not serve the
// mount yet streams it from another node, moves to the local Icecast
// once it does, goes to the other node again when the local Icecast
// dies, and back: a listener, with Icy metadata or without, gets the
// stream exactly, every byte once, in order, with its metadata blocks
// in rhythm.
func TestFeedMovesSeamlessly(t *testing.T) {
	seed := readSeed(t, "seed.mp3", 60)
	start := time.Now()
	const rate = 50 << 10 // bytes a second: the test lasts about 2 s
	live := func() int { return 8<<10 + int(time.Since(start).Seconds()*rate) }
	local := &liveUpstream{data: seed, live: live, burst: 48 << 10, metaint: 1000, down: true}
	other := &liveUpstream{data: seed, live: live, burst: 48 << 10, metaint: 1000}
	var localLive sync.Mutex
	isLive := false
	setLive := func(v bool) {
		localLive.Lock()
		isLive = v
		localLive.Unlock()
		local.setDown(!v)
	}
	reg := prometheus.NewRegistry()
	f, err := New(Config{
		Upstream:   local,
		Others:     func(string) []Other { return []Other{{"b", other}} },
		LocalLive:  func(string) bool { localLive.Lock(); defer localLive.Unlock(); return isLive },
		WindowSize: 256 << 10, Burst: 8 << 10,
		ReadTimeout: time.Second, ReadyTimeout: time.Second, WriteTimeout: time.Second, HeadTimeout: time.Second,
		Grace: 10 * time.Millisecond, Reconnect: 5 * time.Second, ProbeInterval: 100 * time.Millisecond,
	}, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.Serve(w, r, r.URL.Path, 0)
	}))
	defer func() {
		f.Close()
		srv.Close()
	}()

	type capture struct {
		icy  bool
		data chan []byte
	}
	var caps []capture
	for _, icy := range []bool{false, true} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/live.mp3", nil)
		if icy {
			req.Header.Set("Icy-MetaData", "1")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		c := capture{icy, make(chan []byte, 1)}
		go func() {
			defer resp.Body.Close()
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 100<<10))
			c.data <- b
		}()
		caps = append(caps, c)
	}
	// Each step waits until both feeds (Icy and plain) have made the move
	// it causes: to the local Icecast when it is live, to the other node
	// when it dies.
	moved := func(to string, want float64) {
		testenv.Eventually(t, 5*time.Second, func() error {
			if n := counterValue(t, f.m.moves.WithLabelValues(to)); n < want {
				return fmt.Errorf("%v moves to %s, want %v", n, to, want)
			}
			return nil
		})
	}
	moved("other", 2)
	setLive(true)
	moved("local", 2)
	setLive(false)
	moved("other", 4)
	setLive(true)
	moved("local", 4)
	for _, c := range caps {
		var got []byte
		select {
		case got = <-c.data:
		case <-time.After(10 * time.Second):
			t.Fatalf("icy=%v: the listener got too little", c.icy)
		}
		audio := got
		if c.icy {
			audio = nil
			d := newIcyDemux(1000)
			d.split(got, func(a []byte) { audio = append(audio, a...) }, func([]byte) {})
		}
		i := bytes.Index(seed, audio[:64])
		if i < 0 || !bytes.Equal(audio, seed[i:i+len(audio)]) {
			t.Errorf("icy=%v: the listener's %d bytes of audio are not the stream, every byte once", c.icy, len(audio))
		}
	}
	if n := counterValue(t, f.m.splices.WithLabelValues(splicedJoin)); n != 0 {
		t.Errorf("%v splices lost audio, want none", n)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
