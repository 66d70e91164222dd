package icecast

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"autoradio/internal/audiotest"
	"autoradio/internal/testenv"
)

func TestInstallWebroot(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes with ffmpeg")
	}
	testenv.RequireBinaries(t, "ffmpeg")
	ctx := testenv.Context(t, 30*time.Second)
	dir := filepath.Join(t.TempDir(), "web")
	if err := InstallWebroot(ctx, dir); err != nil {
		t.Fatal(err)
	}
	xsl, err := os.ReadFile(filepath.Join(dir, "autoradio-status.xsl"))
	if err != nil || len(xsl) == 0 {
		t.Fatalf("status stylesheet missing: %v", err)
	}
	for _, s := range silences {
		data, err := os.ReadFile(filepath.Join(dir, s.name))
		if err != nil {
			t.Fatal(err)
		}
		// The files hold silenceSeconds (5 s) of audio.
		if err := audiotest.Decode(ctx, data, 4900*time.Millisecond); err != nil {
			t.Errorf("%s: %v", s.name, err)
		}
	}
	before, _ := os.Stat(filepath.Join(dir, "_silence.mp3"))
	if err := InstallWebroot(ctx, dir); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(dir, "_silence.mp3"))
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("a second InstallWebroot encoded the silence files again")
	}
}
