package icecast

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"autoradio/internal/testenv"
)

// Made-up IDs for the Icecast user: the tests chown to them.
const (
	testUID      = 64001
	testGID      = 64002 // its group
	testOtherGID = 64003 // a supplementary group
	strangerID   = 64009 // neither its user nor one of its groups
)

// entry is a file, or a directory when its name ends in "/", that
// makeTree creates with this mode and owner.
type entry struct {
	name     string
	mode     fs.FileMode
	uid, gid int
}

// makeTree creates entries under root, in order.
func makeTree(t *testing.T, root string, entries []entry) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(root, e.name)
		var err error
		if strings.HasSuffix(e.name, "/") {
			err = os.Mkdir(p, 0o700)
		} else {
			err = os.WriteFile(p, nil, 0o600)
		}
		if err == nil {
			err = os.Chown(p, e.uid, e.gid)
		}
		if err == nil {
			err = os.Chmod(p, e.mode)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestAccountCheck(t *testing.T) {
	testenv.RequireRoot(t)
	a := account{name: "icecast2", uid: testUID, groups: []int{testGID, testOtherGID}}
	for _, tc := range []struct {
		name    string
		tree    []entry
		path    string
		want    fs.FileMode
		blocker string // "": reachable
		fix     string
	}{
		{name: "reachable file",
			tree: []entry{{"a/", 0o755, 0, 0}, {"a/f", 0o644, 0, 0}},
			path: "a/f", want: permRead},
		{name: "parent 0700 root",
			tree: []entry{{"a/", 0o700, 0, 0}, {"a/b/", 0o755, 0, 0}, {"a/b/f", 0o644, 0, 0}},
			path: "a/b/f", want: permRead, blocker: "a", fix: "chmod o+x"},
		{name: "parent searchable by its group",
			tree: []entry{{"a/", 0o710, 0, testGID}, {"a/f", 0o640, 0, testGID}},
			path: "a/f", want: permRead},
		{name: "parent searchable by a supplementary group",
			tree: []entry{{"a/", 0o750, 0, testOtherGID}, {"a/f", 0o644, 0, 0}},
			path: "a/f", want: permRead},
		{name: "parent of a group it is not in",
			tree: []entry{{"a/", 0o750, 0, strangerID}, {"a/f", 0o644, 0, 0}},
			path: "a/f", want: permRead, blocker: "a", fix: "chmod o+x"},
		{name: "its group's bits apply even where others' allow",
			tree: []entry{{"a/", 0o705, 0, testGID}, {"a/f", 0o644, 0, 0}},
			path: "a/f", want: permRead, blocker: "a", fix: "chmod g+x"},
		{name: "parent it owns",
			tree: []entry{{"a/", 0o700, testUID, strangerID}, {"a/f", 0o644, 0, 0}},
			path: "a/f", want: permRead},
		{name: "parent it owns without search",
			tree: []entry{{"a/", 0o677, testUID, strangerID}, {"a/f", 0o644, 0, 0}},
			path: "a/f", want: permRead, blocker: "a", fix: "chmod u+x"},
		{name: "unreadable file",
			tree: []entry{{"a/", 0o755, 0, 0}, {"a/f", 0o600, 0, 0}},
			path: "a/f", want: permRead, blocker: "a/f", fix: "chmod o+r"},
		{name: "base directory it owns",
			tree: []entry{{"a/", 0o755, 0, 0}, {"a/base/", 0o755, testUID, testGID}},
			path: "a/base", want: permWrite | permExec},
		{name: "base directory it cannot write in",
			tree: []entry{{"a/", 0o755, 0, 0}, {"a/base/", 0o755, 0, 0}},
			path: "a/base", want: permWrite | permExec, blocker: "a/base", fix: "chmod o+wx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := sharedDir(t)
			makeTree(t, root, tc.tree)
			err := a.check(filepath.Join(root, tc.path), tc.want)
			if tc.blocker == "" {
				if err != nil {
					t.Fatalf("check: %v", err)
				}
				return
			}
			var ae *accessError
			if !errors.As(err, &ae) {
				t.Fatalf("check: %v, want an access error", err)
			}
			blocker := filepath.Join(root, tc.blocker)
			if ae.path != blocker {
				t.Errorf("blocked at %s, want %s", ae.path, blocker)
			}
			if fix := tc.fix + " " + blocker + ","; !strings.Contains(err.Error(), fix) {
				t.Errorf("error %q does not say %q", err, fix)
			}
		})
	}
}

// A symbolic link is followed: what counts is the directories of its
// target.
func TestAccountCheckFollowsLinks(t *testing.T) {
	testenv.RequireRoot(t)
	a := account{name: "icecast2", uid: testUID, groups: []int{testGID}}
	root := sharedDir(t)
	makeTree(t, root, []entry{{"locked/", 0o700, 0, 0}, {"locked/state/", 0o755, 0, 0}, {"open/", 0o755, 0, 0}})
	if err := os.Symlink(filepath.Join(root, "locked/state"), filepath.Join(root, "open/state")); err != nil {
		t.Fatal(err)
	}
	err := a.check(filepath.Join(root, "open/state"), permExec)
	var ae *accessError
	if !errors.As(err, &ae) || ae.path != filepath.Join(root, "locked") {
		t.Fatalf("check through a link into a 0700 directory: %v", err)
	}
}

// NewServer fails at once, with the whole story, when the Icecast user
// cannot reach the status stylesheet.
func TestNewServerRefusesAnUnreachableWebRoot(t *testing.T) {
	testenv.RequireRoot(t)
	if _, err := lookupAccount("icecast2", "icecast"); err != nil {
		t.Skip(err)
	}
	root := sharedDir(t)
	makeTree(t, root, []entry{{"locked/", 0o700, 0, 0}, {"locked/web/", 0o755, 0, 0}, {"locked/web/autoradio-status.xsl", 0o644, 0, 0}})
	_, err := NewServer(ServerConfig{
		ConfigPath: filepath.Join(root, "icecast.xml"), BaseDir: filepath.Join(root, "icecast"),
		WebRoot: filepath.Join(root, "locked/web"), User: "icecast2", Group: "icecast",
		URL: "http://127.0.0.1:1", AdminPassword: "a", RelayPassword: "r",
		Logger: slog.New(slog.DiscardHandler),
	})
	locked := filepath.Join(root, "locked")
	want := "icecast: user icecast2 cannot read " + filepath.Join(locked, "web/autoradio-status.xsl") +
		": directory " + locked + " is 0700 root:root, without search (x) permission for icecast2; " +
		"fix: chmod o+x " + locked + ", or choose a state directory icecast2 can reach"
	if err == nil || err.Error() != want {
		t.Fatalf("NewServer: %v\nwant: %s", err, want)
	}
}
