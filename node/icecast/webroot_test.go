package icecast

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestInstallWebroot(t *testing.T) {
	requireBinaries(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "web")
	if err := InstallWebroot(ctx, dir); err != nil {
		t.Fatal(err)
	}
	xsl, err := os.ReadFile(filepath.Join(dir, "autoradio-status.xsl"))
	if err != nil || len(xsl) == 0 {
		t.Fatalf("status stylesheet missing: %v", err)
	}
	for _, s := range silences {
		file := filepath.Join(dir, s.name)
		out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-i", file, "-f", "null", "-").CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("%s does not decode: %v %s", s.name, err, out)
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
