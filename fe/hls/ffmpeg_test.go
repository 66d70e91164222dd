package hls

import (
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

// ffmpegSource is a Source whose every mount is a live stream that ffmpeg
// encodes in real time, MP3 or AAC (ADTS) by the mount's extension.
type ffmpegSource struct{ t *testing.T }

func (s ffmpegSource) Open(ctx context.Context, mount string) (Feed, error) {
	ct := "audio/mpeg"
	if strings.HasSuffix(mount, ".aac") {
		ct = "audio/aac"
	}
	args := append([]string{"-nostdin", "-v", "error"}, audiotest.EncodeArgs(mount)...)
	cmd := exec.CommandContext(ctx, "ffmpeg", append(args, "pipe:1")...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &pipeFeed{cmd: cmd, out: out, ct: ct, buf: make([]byte, 4<<10)}, nil
}

type pipeFeed struct {
	cmd *exec.Cmd
	out io.ReadCloser
	ct  string
	buf []byte
}

func (f *pipeFeed) ContentType() string { return f.ct }
func (f *pipeFeed) Next(context.Context) ([]byte, error) {
	n, err := io.ReadAtLeast(f.out, f.buf, 1)
	return f.buf[:n], err
}
func (f *pipeFeed) Close() { f.cmd.Process.Kill(); f.cmd.Wait() }

// serveHLS serves h's media playlists and segments at /<mount>/<file> on
// a loopback address of this package's tests.
func serveHLS(t *testing.T, h *HLS) string {
	ln, err := net.Listen("tcp", "127.0.0.119:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := strings.LastIndexByte(r.URL.Path, '/')
		if err := h.ServeMedia(w, r, r.URL.Path[:i], r.URL.Path[i+1:], false); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestFFmpegPlays has ffmpeg play 10 s of an MP3 and an AAC mount's
// media playlists, with nothing to say at -v error.
func TestFFmpegPlays(t *testing.T) {
	testenv.RequireBinaries(t, "ffmpeg")
	h, err := New(Config{Target: 2 * time.Second}, ffmpegSource{t}, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	url := serveHLS(t, h)
	t.Cleanup(h.Close)
	for _, mount := range []string{"/live.mp3", "/live.aac"} {
		t.Run(mount, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), testenv.Bound(time.Minute))
			defer cancel()
			if err := audiotest.PlayURL(ctx, t.TempDir(), url+mount+"/index.m3u8", 10*time.Second); err != nil {
				t.Error(err)
			}
		})
	}
}
