package icecast

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Icecast started as root drops to ServerConfig.User and Group before it
// touches its directories: it writes its PID file and logs in BaseDir,
// serves the web root's files and rereads its config on every reload as
// that user. A directory on the way that the user may not search (a 0700
// parent, typically) does not stop Icecast from starting: it only never
// serves the status stylesheet, so it is never ready. The Server checks
// at start-up, from the permission bits, what the kernel will check then.
// ACLs are not read: they can only be the reason for a refusal to be
// wrong, in which case the operator can make the bits agree.

// Permission bits, as in one triplet of a file mode.
const (
	permExec  = 1 // search, for a directory
	permWrite = 2
	permRead  = 4
)

// account is whom Icecast runs as once it dropped root: setgid to its
// group, then initgroups(user, group).
type account struct {
	name   string
	uid    int
	groups []int // the group first
}

// lookupAccount resolves userName and groupName as Icecast does.
func lookupAccount(userName, groupName string) (account, error) {
	u, err := user.Lookup(userName)
	if err != nil {
		return account{}, fmt.Errorf("icecast: user: %w", err)
	}
	g, err := user.LookupGroup(groupName)
	if err != nil {
		return account{}, fmt.Errorf("icecast: group: %w", err)
	}
	a := account{name: userName}
	a.uid, _ = strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	a.groups = []int{gid}
	ids, err := u.GroupIds()
	if err != nil {
		return account{}, fmt.Errorf("icecast: groups of %s: %w", userName, err)
	}
	for _, id := range ids {
		if n, err := strconv.Atoi(id); err == nil && n != gid {
			a.groups = append(a.groups, n)
		}
	}
	return a, nil
}

// check returns an error saying what is in the way and how to fix it
// unless a may search every directory above path and has the want
// permissions on path itself.
func (a account) check(path string, want fs.FileMode) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("icecast: checking that %s can reach %s: %w", a.name, path, err)
	}
	e := &accessError{user: a.name, target: path, want: want}
	for _, dir := range ancestors(real) {
		if err := a.allowed(e, dir, permExec); err != nil {
			return err
		}
	}
	return a.allowed(e, real, want)
}

// ancestors lists the directories above the absolute, clean path, from
// the root down.
func ancestors(path string) []string {
	var dirs []string
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	slices.Reverse(dirs)
	return dirs
}

// allowed checks that the mode of p gives a the need permissions, by the
// kernel's rule: the owner's bits for the owner, else the group's for a
// member of the group, else the others'. Its error is e, completed.
func (a account) allowed(e *accessError, p string, need fs.FileMode) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("icecast: checking that %s can reach %s: %w", a.name, e.target, err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	uid, gid := int(st.Uid), int(st.Gid)
	class, shift := "o", 0
	switch {
	case uid == a.uid:
		class, shift = "u", 6
	case slices.Contains(a.groups, gid):
		class, shift = "g", 3
	}
	if fi.Mode().Perm()>>shift&need == need {
		return nil
	}
	e.path, e.need, e.mode, e.uid, e.gid, e.class = p, need, fi.Mode(), uid, gid, class
	return e
}

// accessError is a path that Icecast, once it dropped root, may not use.
type accessError struct {
	user   string
	target string      // what Icecast needs
	want   fs.FileMode // the permissions it needs on target
	path   string      // target or a directory above it, whose mode is in the way
	need   fs.FileMode // the permissions missing on path
	mode   fs.FileMode // path's mode
	uid    int         // path's owner and group
	gid    int
	class  string // the class of path's permissions the user falls in: u, g or o
}

func (e *accessError) Error() string {
	kind := "directory"
	if !e.mode.IsDir() {
		kind = "file"
	}
	return fmt.Sprintf("icecast: user %s cannot %s %s: %s %s is %04o %s:%s, without %s permission for %s; "+
		"fix: chmod %s+%s %s, or choose a state directory %s can reach",
		e.user, verb(e.want), e.target, kind, e.path, e.mode.Perm(), userName(e.uid), groupName(e.gid),
		describe(e.need), e.user, e.class, letters(e.need), e.path, e.user)
}

// verb says what Icecast does with a path it needs want on.
func verb(want fs.FileMode) string {
	switch {
	case want&permWrite != 0:
		return "write in"
	case want&permRead != 0:
		return "read"
	}
	return "enter"
}

// describe names the permissions in want: "write and search (wx)".
func describe(want fs.FileMode) string {
	var names []string
	for _, p := range []struct {
		bit  fs.FileMode
		name string
	}{{permRead, "read"}, {permWrite, "write"}, {permExec, "search"}} {
		if want&p.bit != 0 {
			names = append(names, p.name)
		}
	}
	return strings.Join(names, " and ") + " (" + letters(want) + ")"
}

// letters spells want as chmod does: "rx".
func letters(want fs.FileMode) string {
	s := ""
	for _, p := range []struct {
		bit    fs.FileMode
		letter string
	}{{permRead, "r"}, {permWrite, "w"}, {permExec, "x"}} {
		if want&p.bit != 0 {
			s += p.letter
		}
	}
	return s
}

func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}

func groupName(gid int) string {
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		return g.Name
	}
	return strconv.Itoa(gid)
}
