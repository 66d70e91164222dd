package icecast

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audioframe"
)

// TestFeedPacesFrames: a feed sends each frame once its time to play,
// less the lead, has come, never before, and starts over at the end;
// frames due within a batch go together.
func TestFeedPacesFrames(t *testing.T) {
	const (
		frames   = 20
		frameLen = 10
		frameDur = 20 * time.Millisecond
		lead     = 100 * time.Millisecond
		batch    = 50 * time.Millisecond
		loops    = 2
	)
	f := &silenceFeed{lead: lead, batch: batch}
	for i := range frames {
		f.data = append(f.data, bytes.Repeat([]byte{byte(i)}, frameLen)...)
		f.marks = append(f.marks, audioframe.Mark{End: (i + 1) * frameLen, At: time.Duration(i+1) * frameDur})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, server := net.Pipe()
	defer server.Close()
	start := time.Now()
	sent := make(chan error, 1)
	go func() {
		defer client.Close()
		sent <- f.send(ctx, client, start)
	}()

	var got []byte
	var arrived []time.Duration // of each byte
	buf := make([]byte, 64)     // more than a batch: a read of net.Pipe takes one write
	reads := 0
	for len(got) < loops*len(f.data) {
		reads++
		server.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := server.Read(buf)
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(got), err)
		}
		now := time.Since(start)
		got = append(got, buf[:n]...)
		for range n {
			arrived = append(arrived, now)
		}
	}
	if want := bytes.Repeat(f.data, loops); !bytes.Equal(got[:len(want)], want) {
		t.Fatalf("the feed sent %x, want the data %d times", got, loops)
	}
	for i := 0; i < len(got); i += frameLen {
		frame := i / frameLen
		due := time.Duration(frame)*frameDur - lead
		if arrived[i] < due {
			t.Errorf("frame %d (loop %d) sent %v after the start, before it was due at %v",
				frame%frames, frame/frames, arrived[i], due)
		}
	}
	// A write holds the frames due within a batch (50 ms: 3 frames),
	// but for the last of a loop.
	if reads > loops*frames/2 {
		t.Errorf("%d frames came in %d writes, want batches of several frames", loops*frames, reads)
	}
	// feed closes the connection when its context ends, which ends a
	// write in progress; send itself stops between writes.
	cancel()
	server.Close()
	if err := <-sent; !errors.Is(err, context.Canceled) && !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("send returned %v once its context ended, want context.Canceled or the closed connection", err)
	}
}

// A Server that starts with the config a previous run left feeds the
// live silence mounts of that config, which Icecast runs until the first
// Apply.
func TestLastConfigIsFed(t *testing.T) {
	dir := t.TempDir()
	p := baseParams()
	p.User, p.Group = "", ""
	p.Mounts = []*autoradio.Mount{{Name: "/a.mp3"}, {Name: "/b.ogg", Fallback: "/a.mp3"}}
	data, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "icecast.xml")
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(ServerConfig{ConfigPath: cfg, BaseDir: filepath.Join(dir, "icecast"),
		URL: "http://127.0.0.1:1", AdminPassword: "admin-secret", RelayPassword: "relay-secret",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-s.feeds:
		if want := map[string]string{"/_silence-live/a.mp3": "mp3"}; !maps.Equal(got, want) {
			t.Errorf("feeds of the last config: %v, want %v", got, want)
		}
	default:
		t.Error("the live silence mounts of the last config are not fed")
	}
}
