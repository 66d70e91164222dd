package atomicfile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func mustWrite(t *testing.T, path, data string, perm os.FileMode) bool {
	t.Helper()
	changed, err := WriteFile(path, []byte(data), perm)
	if err != nil {
		t.Fatal(err)
	}
	return changed
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "icecast.xml")

	if !mustWrite(t, path, "one", 0o640) {
		t.Error("new file: changed = false")
	}
	ino := inode(t, path)
	if mustWrite(t, path, "one", 0o640) {
		t.Error("same content: changed = true")
	}
	if inode(t, path) != ino {
		t.Error("same content: the file was replaced")
	}
	if !mustWrite(t, path, "two", 0o640) {
		t.Error("new content: changed = false")
	}
	if inode(t, path) == ino {
		t.Error("new content: written in place, not renamed")
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Errorf("content %q, want two", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file (no temporaries)", len(entries))
	}
}

func TestUnchangedContentGetsPermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	mustWrite(t, path, "x", 0o600)
	if mustWrite(t, path, "x", 0o644) {
		t.Error("changed = true for a permission change only")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode())
	}
}

func TestWriteFileOwned(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	path := filepath.Join(t.TempDir(), "f")
	for _, data := range []string{"a", "a", "b"} {
		if _, err := WriteFileOwned(path, []byte(data), 0o640, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(path)
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 {
			t.Errorf("after writing %q: owner %d:%d, want 65534:65534", data, st.Uid, st.Gid)
		}
		os.Chown(path, 0, 0) // the next write must restore the owner
	}
}

func TestMissingDirectory(t *testing.T) {
	_, err := WriteFile(filepath.Join(t.TempDir(), "no", "f"), []byte("x"), 0o644)
	if err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// A reader never sees a partial file while the writer replaces it.
func TestReadersSeeWholeFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	a, b := bytes.Repeat([]byte("a"), 64<<10), bytes.Repeat([]byte("b"), 64<<10)
	if _, err := WriteFile(path, a, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() {
		for i := 0; i < 50 && ctx.Err() == nil; i++ {
			data := a
			if i%2 == 0 {
				data = b
			}
			if _, err := WriteFile(path, data, 0o644); err != nil {
				t.Error(err)
				break
			}
		}
		cancel()
	})
	reads := 0
	for ; ctx.Err() == nil; reads++ {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
			t.Fatalf("read %d bytes that are neither version", len(got))
		}
	}
	t.Logf("%d reads during 50 replacements", reads)
}
