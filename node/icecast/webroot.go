package icecast

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"autoradio/node/atomicfile"
)

//go:embed webroot/autoradio-status.xsl
var statusXSL []byte

// stockWebRoot is where Debian's icecast2 package keeps its web files.
var stockWebRoot = DefaultWebRoot

// InstallWebroot makes dir a web root for Icecast: a copy of the stock web
// files of the icecast2 package (its status pages keep working), the
// autoradio status stylesheet served at StatusPath, and the silence
// fallback files (EnsureSilenceFiles, which runs ffmpeg once). Files are
// world-readable so that Icecast can read them after dropping root. It is
// idempotent and refreshes the stylesheet, so an upgrade takes effect.
func InstallWebroot(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("icecast: webroot: %w", err)
	}
	if err := copyStockWeb(dir); err != nil {
		return fmt.Errorf("icecast: webroot: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, filepath.Base(StatusPath)), statusXSL); err != nil {
		return fmt.Errorf("icecast: webroot: %w", err)
	}
	return EnsureSilenceFiles(ctx, dir)
}

// copyStockWeb copies the regular files of stockWebRoot into dir. A
// missing stock directory is not an error: only the stylesheet matters.
func copyStockWeb(dir string) error {
	entries, err := os.ReadDir(stockWebRoot)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := readFileLimited(filepath.Join(stockWebRoot, e.Name()))
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dir, e.Name()), data); err != nil {
			return err
		}
	}
	return nil
}

func readFileLimited(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 16<<20))
}

// writeFileAtomic writes a world-readable web root file: Icecast reads
// it after dropping root.
func writeFileAtomic(name string, data []byte) error {
	_, err := atomicfile.WriteFile(name, data, 0o644)
	return err
}
