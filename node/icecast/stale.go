package icecast

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// findIcecast returns the PIDs of Icecast processes started with config
// cfgPath: an Icecast left behind by a radiod that was killed. Icecast
// outlives its parent (the parent-death signal is cleared when it drops
// root) and would keep the port, so the new one could not start.
func findIcecast(procPath, bin, cfgPath string) []int {
	entries, err := os.ReadDir(procPath)
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(procPath, e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if isIcecastWith(strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00"), bin, cfgPath) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// isIcecastWith tells whether args run program bin with "-c cfgPath".
func isIcecastWith(args []string, bin, cfgPath string) bool {
	if len(args) < 3 || filepath.Base(args[0]) != filepath.Base(bin) {
		return false
	}
	i := slices.Index(args, "-c")
	return i > 0 && i+1 < len(args) && args[i+1] == cfgPath
}

// stopStale terminates leftover Icecast processes of this node and waits
// for them to exit, killing them after timeout.
func (s *Server) stopStale(timeout time.Duration) {
	find := func() []int { return findIcecast(s.cfg.ProcPath, s.cfg.Bin, s.cfg.ConfigPath) }
	pids := find()
	if len(pids) == 0 {
		return
	}
	s.log.Warn("stopping an Icecast left by a previous radiod", "pids", pids)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && len(find()) > 0 {
		time.Sleep(100 * time.Millisecond)
	}
	for _, pid := range find() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
