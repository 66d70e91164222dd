// Package atomicfile writes files the way a config renderer must: readers
// (Icecast rereading its config on SIGHUP, say) see either the old content
// or the new, never a mix, the new content survives a crash once written,
// and an unchanged file is left alone, so that the caller can reload only
// when something changed.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFile makes path hold data with permissions perm. It writes a
// temporary file in the same directory, syncs it, renames it over path and
// syncs the directory. When path already holds data it writes nothing and
// only corrects the permissions. changed reports whether the content
// changed.
func WriteFile(path string, data []byte, perm os.FileMode) (changed bool, err error) {
	return write(path, data, perm, nil)
}

// WriteFileOwned is WriteFile that also makes uid:gid own the file (the
// caller must be root), e.g. for a config that a program rereads after
// dropping privileges.
func WriteFileOwned(path string, data []byte, perm os.FileMode, uid, gid int) (changed bool, err error) {
	return write(path, data, perm, &owner{uid, gid})
}

type owner struct{ uid, gid int }

func write(path string, data []byte, perm os.FileMode, own *owner) (bool, error) {
	same, err := hasContent(path, data)
	if err != nil {
		return false, fmt.Errorf("atomicfile: %w", err)
	}
	if same {
		if err := fixAttributes(path, perm, own); err != nil {
			return false, fmt.Errorf("atomicfile: %w", err)
		}
		return false, nil
	}
	if err := replace(path, data, perm, own); err != nil {
		return false, fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	return true, nil
}

// hasContent reports whether path exists and holds exactly data.
func hasContent(path string, data []byte) (bool, error) {
	old, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return bytes.Equal(old, data), nil
}

// replace writes data to a temporary file and renames it over path.
func replace(path string, data []byte, perm os.FileMode, own *owner) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if own != nil {
		if err := f.Chown(own.uid, own.gid); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes the rename durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// fixAttributes sets perm and owner on an existing file where they differ.
func fixAttributes(path string, perm os.FileMode, own *owner) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm() != perm.Perm() {
		if err := os.Chmod(path, perm); err != nil {
			return err
		}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if own == nil || !ok || (int(st.Uid) == own.uid && int(st.Gid) == own.gid) {
		return nil
	}
	return os.Chown(path, own.uid, own.gid)
}
