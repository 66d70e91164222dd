package httpfe

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// TestLiveChunkedSources streams chunked PUT sources through the
// front-end to a real Icecast, with the real clients that send them:
// listeners must get the audio alone, without the chunks' framing.
func TestLiveChunkedSources(t *testing.T) {
	env := startLive(t, Config{StreamGrace: 500 * time.Millisecond}, "/curl.mp3", "/liquidsoap.mp3", "/broken.mp3")
	ctx := testenv.Context(t, 2*time.Minute)

	t.Run("curl -T - fed by ffmpeg", func(t *testing.T) {
		sent := env.curlSource(ctx, t, "/curl.mp3")
		capture := env.chunklessCapture(ctx, t, "/curl.mp3")
		// Icecast passes an MP3 stream through as it is: what a
		// listener gets is a run of what ffmpeg made.
		if !bytes.Contains(sent.Bytes(), capture) {
			t.Errorf("the capture of %d bytes is not a part of the %d bytes ffmpeg sent", len(capture), len(sent.Bytes()))
		}
	})
	t.Run("liquidsoap chunked=true", func(t *testing.T) {
		testenv.RequireBinaries(t, "liquidsoap")
		dir := t.TempDir()
		script := filepath.Join(dir, "chunked.liq")
		_, port, _ := strings.Cut(env.fe, ":")
		if err := os.WriteFile(script, []byte(fmt.Sprintf(liquidsoapChunked, port, srcUser, srcPass, "/liquidsoap.mp3")), 0o600); err != nil {
			t.Fatal(err)
		}
		testenv.Start(t, "liquidsoap", script)
		env.ic.waitSource(ctx, t, "/liquidsoap.mp3")
		env.chunklessCapture(ctx, t, "/liquidsoap.mp3")
	})
	t.Run("a malformed chunk ends the source", func(t *testing.T) {
		env.brokenChunk(ctx, t, "/broken.mp3")
	})
}

// liquidsoapChunked streams a tone to the front-end on 127.0.0.1 in a
// chunked PUT; its arguments are the port, user, password and mount.
const liquidsoapChunked = `settings.init.allow_root.set(true)
settings.log.stdout.set(true)
settings.log.file.set(false)
output.icecast(%%mp3(bitrate=128), host="127.0.0.1", port=%s, user=%q, password=%q, mount=%q,
  chunked=true, mksafe(sine(440.)))
`

// chunkLine is a chunk-size line between two chunks, as a stream passed
// on without de-chunking would hold it.
var chunkLine = regexp.MustCompile(`\r\n[0-9a-fA-F]{1,8}(;[^\r\n]*)?\r\n`)

// chunklessCapture listens to mount through the front-end for 4 s and
// checks that the capture decodes without errors and holds no chunk-size
// line; it returns the capture.
func (env *liveEnv) chunklessCapture(ctx context.Context, t *testing.T, mount string) []byte {
	t.Helper()
	capture, err := audiotest.Capture(ctx, "http://"+env.fe+"/_stream"+mount, 4*time.Second)
	if err != nil {
		t.Fatalf("listening to %s: %v", mount, err)
	}
	if err := audiotest.DecodeJoined(ctx, capture, 2*time.Second); err != nil {
		t.Errorf("%s: %v", mount, err)
	}
	if loc := chunkLine.FindIndex(capture); loc != nil {
		t.Errorf("%s: chunk-size line %q at byte %d of the capture", mount, capture[loc[0]:loc[1]], loc[0])
	}
	t.Logf("%s: captured %d bytes", mount, len(capture))
	return capture
}

// curlSource streams ffmpeg's MP3 to mount with curl -T - (a chunked
// PUT, as curl sends a body of unknown length) and waits until Icecast
// has the source. It returns what ffmpeg has sent so far.
func (env *liveEnv) curlSource(ctx context.Context, t *testing.T, mount string) *lockedBuffer {
	testenv.RequireBinaries(t, "curl")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close(); pw.Close() })
	curl := exec.Command("curl", "-sS", "-T", "-", "-H", "Content-Type: audio/mpeg",
		"--user", srcUser+":"+srcPass, "http://"+env.fe+mount)
	curl.Stdin = pr
	testenv.StartCmd(t, curl)
	pr.Close()
	sent := &lockedBuffer{w: pw}
	startFFmpeg(t, sent, append(audiotest.EncodeArgs(mount), "-t", "600", "-")...)
	env.ic.waitSource(ctx, t, mount)
	return sent
}

// A lockedBuffer passes writes on to w and keeps a copy of them.
type lockedBuffer struct {
	w   io.Writer
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	n, err := b.w.Write(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p[:n])
	return n, err
}

// Bytes returns a copy of what was written so far.
func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// brokenChunk starts a chunked source by hand and sends a chunk-size line
// that is not one: the front-end must close the source's connection, and
// Icecast drop the source.
func (env *liveEnv) brokenChunk(ctx context.Context, t *testing.T, mount string) {
	conn := dialFE(t, env.fe)
	conn.SetDeadline(time.Now().Add(testenv.Bound(10 * time.Second)))
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: audio/mpeg\r\nTransfer-Encoding: chunked\r\n\r\n",
		mount, env.fe, basicAuth(srcUser, srcPass))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("answer to the chunked PUT: %v, %v", resp, err)
	}
	env.ic.waitSource(ctx, t, mount)
	fmt.Fprintf(conn, "4\r\nabcd\r\nnot a size\r\n")
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("the source's connection ended with %v, want it closed", err)
	}
	waitFor(ctx, t, "no source on "+mount, func() bool {
		st, err := env.ic.stats()
		_, ok := st[mount]
		return err == nil && !ok
	})
}
