// Package audiotest drives real audio through a cluster in tests: ffmpeg as
// a source, HTTP listeners that record what they receive and when, and
// ffmpeg as the judge of whether a capture decodes.
package audiotest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"autoradio/internal/audioframe"
	"autoradio/internal/testenv"
)

// Source pushes a 440 Hz tone in real time to an Icecast-protocol URL
// (http://USER:PASS@HOST:PORT/mount): Ogg Vorbis for .ogg mounts, MP3
// otherwise. Like real sources it reconnects, a fifth of a second after
// each failure, until the test ends and its process group is killed.
func Source(t testing.TB, rawURL string) *testenv.Proc {
	t.Helper()
	script := `while :; do ffmpeg "$@"; sleep 0.2; done`
	return testenv.Start(t, "sh", append([]string{"-c", script, "source"}, sourceArgs(t, rawURL)...)...)
}

// SourceOnce pushes the same stream as Source, trying again while the
// server refuses it (an HTTP error, or no server yet), but not once it was
// accepted: a stream cut off later is not resumed.
func SourceOnce(t testing.TB, rawURL string) *testenv.Proc {
	t.Helper()
	script := `while :; do
	ffmpeg "$@" 2>&1 | tee /dev/stderr | grep -q -e 'Server returned' -e 'HTTP error' -e 'Connection refused' || exit 0
	sleep 0.2
done`
	return testenv.Start(t, "bash", append([]string{"-c", script, "source"}, sourceArgs(t, rawURL)...)...)
}

// sourceArgs are ffmpeg's arguments to push a stream to rawURL, over TLS
// when it is https://.
func sourceArgs(t testing.TB, rawURL string) []string {
	t.Helper()
	testenv.RequireBinaries(t, "ffmpeg")
	args := append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, EncodeArgs(rawURL)...)
	if rest, ok := strings.CutPrefix(rawURL, "https://"); ok {
		return append(args, "-tls", "1", "icecast://"+rest)
	}
	return append(args, "icecast://"+strings.TrimPrefix(rawURL, "http://"))
}

// EncodeArgs are ffmpeg arguments that produce, in real time, a stream like
// a real station's for the mount in url: a tone over pink noise, so that
// the encoder cannot shrink it to almost nothing, in small Ogg pages (a
// pure tone makes one page a second, which looks like a stall). Ogg Vorbis
// for .ogg, 96 kbit/s AAC in ADTS for .aac, 128 kbit/s MP3 otherwise.
func EncodeArgs(url string) []string {
	args := []string{"-re", "-f", "lavfi", "-i",
		"sine=frequency=440:sample_rate=44100[s];anoisesrc=color=pink:amplitude=0.1:sample_rate=44100[n];[s][n]amix=inputs=2"}
	if strings.HasSuffix(url, ".ogg") {
		return append(args, "-c:a", "libvorbis", "-q:a", "5", "-content_type", "application/ogg", "-f", "ogg", "-page_duration", "200000")
	}
	if strings.HasSuffix(url, ".aac") {
		return append(args, "-c:a", "aac", "-b:a", "96k", "-content_type", "audio/aac", "-f", "adts")
	}
	return append(args, "-c:a", "libmp3lame", "-b:a", "128k", "-content_type", "audio/mpeg", "-f", "mp3")
}

// Listener is an HTTP client reading a stream and recording its progress.
type Listener struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	data     bytes.Buffer
	status   int
	finalURL string
	last     time.Time
	maxGap   time.Duration
	err      error
}

// Listen connects to url (following redirects) and reads until Stop.
func Listen(ctx context.Context, url string) *Listener {
	return listen(ctx, url, http.DefaultClient, nil)
}

// ListenPaced is Listen for a listener that plays what it receives as it
// receives it, like a hardware radio: after a first buffer of burst
// bytes it reads at most rate bytes a second, through a small socket
// receive buffer, so that what it cannot take yet waits on the server's
// side, not in the kernel.
func ListenPaced(ctx context.Context, url string, rate, burst int) *Listener {
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, pacedRcvBuf)
		})
		return err
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	return listen(ctx, url, client, &pace{rate: rate, burst: burst})
}

// pacedRcvBuf is the receive buffer of a paced listener's socket.
const pacedRcvBuf = 16 << 10

// pace is how fast a paced listener reads.
type pace struct{ rate, burst int }

// allowed returns how much a listener may have read by d after it began.
func (p *pace) allowed(d time.Duration) int {
	return p.burst + int(int64(p.rate)*int64(d)/int64(time.Second))
}

func listen(ctx context.Context, url string, client *http.Client, p *pace) *Listener {
	ctx, cancel := context.WithCancel(ctx)
	l := &Listener{cancel: cancel, done: make(chan struct{})}
	go l.run(ctx, url, client, p)
	return l
}

func (l *Listener) run(ctx context.Context, url string, client *http.Client, p *pace) {
	defer close(l.done)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		l.fail(err)
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		l.fail(err)
		return
	}
	defer resp.Body.Close()
	began := time.Now()
	l.mu.Lock()
	l.status, l.finalURL, l.last = resp.StatusCode, resp.Request.URL.String(), time.Now()
	l.mu.Unlock()
	if resp.StatusCode != http.StatusOK {
		l.fail(fmt.Errorf("GET %s: %s", url, resp.Status))
		return
	}
	buf := make([]byte, 4096)
	total := 0
	for {
		want := len(buf)
		for p != nil {
			if want = min(len(buf), p.allowed(time.Since(began))-total); want > 0 {
				break
			}
			select {
			case <-time.After(time.Duration(len(buf)) * time.Second / time.Duration(p.rate)):
			case <-ctx.Done():
				return
			}
		}
		n, err := resp.Body.Read(buf[:want])
		total += n
		if n > 0 {
			l.record(buf[:n])
		}
		if err != nil {
			if ctx.Err() == nil {
				l.fail(fmt.Errorf("stream ended: %w", err))
			}
			return
		}
	}
}

func (l *Listener) record(p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if gap := now.Sub(l.last); gap > l.maxGap {
		l.maxGap = gap
	}
	l.last = now
	l.data.Write(p)
}

func (l *Listener) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
	}
}

// Bytes is how much was received so far.
func (l *Listener) Bytes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.data.Len()
}

// Err is why the stream ended before Stop, if it did.
func (l *Listener) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// URL is where the listener ended up after redirects.
func (l *Listener) URL() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.finalURL
}

// MaxGap is the longest time between two reads that returned data.
func (l *Listener) MaxGap() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.maxGap
}

// ResetMaxGap forgets the gaps seen so far: MaxGap then measures from now.
func (l *Listener) ResetMaxGap() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maxGap = 0
}

// Mark returns the current size, for DataSince.
func (l *Listener) Mark() int { return l.Bytes() }

// DataSince returns a copy of what was received after mark.
func (l *Listener) DataSince(mark int) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.data.Bytes()[mark:])
}

// WaitBytes waits until at least n more bytes than mark have arrived; it
// fails early if the stream ends.
func (l *Listener) WaitBytes(mark, n int, timeout time.Duration) error {
	return testenv.Poll(context.Background(), timeout, func() error {
		if err := l.Err(); err != nil {
			return err
		}
		if got := l.Bytes() - mark; got < n {
			return fmt.Errorf("received %d of %d bytes", got, n)
		}
		return nil
	})
}

// Stop disconnects and returns everything received.
func (l *Listener) Stop() []byte {
	l.cancel()
	<-l.done
	return l.DataSince(0)
}

// Capture reads url for d and returns what arrived.
func Capture(ctx context.Context, url string, d time.Duration) ([]byte, error) {
	l := Listen(ctx, url)
	select {
	case <-time.After(d):
	case <-l.done:
	}
	data := l.Stop()
	if err := l.Err(); err != nil {
		return data, err
	}
	return data, nil
}

// Decode checks with ffmpeg that data is decodable audio: ffmpeg must
// decode all of it without a single error, and find at least min of audio.
func Decode(ctx context.Context, data []byte, min time.Duration) error {
	return decode(ctx, data, min, 0)
}

// DecodeJoined is Decode for an MP3 capture that joined the stream
// mid-way, as every listener does: its first frame may point back into
// the bit reservoir of a frame that was never received, which ffmpeg
// reports once as "invalid new backstep". That one error is allowed.
func DecodeJoined(ctx context.Context, data []byte, min time.Duration) error {
	return decode(ctx, data, min, 1)
}

// wholeUnits cuts an MP3 or ADTS capture after its last whole frame (a
// listener stops where it stops, and ffmpeg reports the cut frame as
// invalid data). Other data, and data that ends on a frame, are returned
// whole.
func wholeUnits(data []byte) []byte {
	var sc audioframe.Scanner
	pts := sc.Scan(data)
	if len(pts) == 0 {
		return data
	}
	last := int(pts[len(pts)-1].Pos)
	n := 0
	switch sc.Format() {
	case audioframe.FormatMP3:
		if len(data)-last >= 4 {
			n = audioframe.MP3Len([4]byte(data[last : last+4]))
		}
	case audioframe.FormatADTS:
		n = audioframe.ADTSLen(data[last:])
	}
	if n > 0 && last+n <= len(data) {
		return data[:last+n]
	}
	return data
}

// joinError is what ffmpeg says of an MP3 frame whose bit reservoir
// lies before the start of the data.
const joinError = "invalid new backstep"

func decode(ctx context.Context, data []byte, min time.Duration, joinErrors int) error {
	if len(data) == 0 {
		return errors.New("decode: no data")
	}
	data = wholeUnits(data)
	dir, err := os.MkdirTemp("", "audiotest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "capture")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-stats_period", "100",
		"-i", file, "-f", "null", "-")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("decode: ffmpeg: %v: %s", err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		lines := strings.Split(s, "\n")
		if len(lines) > joinErrors || !strings.Contains(s, joinError) {
			return fmt.Errorf("decode: ffmpeg reported errors: %s", s)
		}
	}
	got, err := Duration(ctx, file)
	if err != nil {
		return err
	}
	if got < min {
		return fmt.Errorf("decode: %v of audio, want at least %v", got, min)
	}
	return nil
}

// Duration asks ffmpeg how much audio a file holds, by decoding it.
func Duration(ctx context.Context, file string) (time.Duration, error) {
	out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-i", file, "-f", "null", "-").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("duration: ffmpeg: %v", err)
	}
	return lastTime(string(out))
}

// lastTime reads the "time=HH:MM:SS.cc" of ffmpeg's last progress line.
func lastTime(s string) (time.Duration, error) {
	i := strings.LastIndex(s, "time=")
	if i < 0 {
		return 0, fmt.Errorf("duration: no time in ffmpeg output")
	}
	var h, m int
	var sec float64
	if _, err := fmt.Sscanf(s[i+5:], "%d:%d:%f", &h, &m, &sec); err != nil {
		return 0, fmt.Errorf("duration: %v", err)
	}
	return time.Duration((float64(h*3600+m*60) + sec) * float64(time.Second)), nil
}

// MeanVolume decodes data (a format that can be decoded from any point,
// such as MP3) and returns its mean volume in dB, as ffmpeg's volumedetect
// measures it: about -91 dB for digital silence, -20 dB or so for the
// tone of Source.
func MeanVolume(ctx context.Context, data []byte) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-i", "pipe:0", "-af", "volumedetect", "-f", "null", "-")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("volumedetect: ffmpeg: %v", err)
	}
	return meanVolume(string(out))
}

// meanVolume reads the mean volume that ffmpeg's volumedetect reports.
func meanVolume(s string) (float64, error) {
	i := strings.LastIndex(s, "mean_volume:")
	if i < 0 {
		return 0, fmt.Errorf("volumedetect: no mean_volume in ffmpeg output")
	}
	var db float64
	if _, err := fmt.Sscanf(s[i+len("mean_volume:"):], "%f", &db); err != nil {
		return 0, fmt.Errorf("volumedetect: %v", err)
	}
	return db, nil
}

// Measure decodes an audio file that a player wrote (inArgs describe it
// when it has no header, such as raw PCM) and returns how much audio it
// holds and its mean volume in dB. An error that ffmpeg reports while
// decoding is an error: a player's output must decode cleanly.
func Measure(ctx context.Context, file string, inArgs ...string) (time.Duration, float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	args := append(append([]string{"-nostdin", "-hide_banner", "-loglevel", "level+info"}, inArgs...),
		"-i", file, "-af", "volumedetect", "-f", "null", "-")
	out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("measure %s: ffmpeg: %v: %s", file, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "[error]") || strings.Contains(line, "[fatal]") {
			return 0, 0, fmt.Errorf("measure %s: ffmpeg reported: %s", file, line)
		}
	}
	d, err := lastTime(string(out))
	if err != nil {
		return 0, 0, err
	}
	db, err := meanVolume(string(out))
	return d, db, err
}

// PlayURL has ffmpeg play d of url (inArgs are its input options) into
// raw PCM, and checks that it reported nothing at -v error and that it
// played at least d less a second. The audio is timed by its samples, not
// by the input's timestamps, which ffmpeg's HLS demuxer gets a frame
// wrong at the edges of MP3 segments (see README, HLS).
func PlayURL(ctx context.Context, dir, url string, d time.Duration, inArgs ...string) error {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	pcm := []string{"-f", "s16le", "-ac", "2", "-ar", "44100"}
	file := filepath.Join(dir, "played.pcm")
	args := append(append([]string{"-nostdin", "-v", "error", "-y"}, inArgs...), "-i", url, "-t", fmt.Sprint(d.Seconds()), "-af", "asetpts=N/SR/TB")
	out, err := exec.CommandContext(ctx, "ffmpeg", append(append(args, pcm...), file)...).CombinedOutput()
	if err != nil || len(out) > 0 {
		return fmt.Errorf("ffmpeg -i %s: %v\n%s", url, err, out)
	}
	played, _, err := Measure(ctx, file, pcm...)
	if err == nil && played < d-time.Second {
		err = fmt.Errorf("ffmpeg played %v of %s, want %v", played, url, d)
	}
	return err
}
