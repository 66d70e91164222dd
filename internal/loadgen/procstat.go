package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Process names server processes (for example nginx's workers, or
// redirectord) whose CPU time and memory a run relates to its listeners.
type Process struct {
	Name string
	PIDs []int
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// usage is what a set of processes used at one moment.
type usage struct {
	cpuSeconds float64
	rssKiB     float64
}

// sample reads the summed usage of p's processes under procRoot (/proc).
func sample(procRoot string, p Process) (usage, error) {
	var u usage
	for _, pid := range p.PIDs {
		data, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
		if err != nil {
			return usage{}, fmt.Errorf("loadgen: %s: %w", p.Name, err)
		}
		ticks, pages, err := parseStat(data)
		if err != nil {
			return usage{}, fmt.Errorf("loadgen: %s: pid %d: %w", p.Name, pid, err)
		}
		u.cpuSeconds += float64(ticks) / clockTicks
		u.rssKiB += float64(pages) * float64(os.Getpagesize()) / 1024
	}
	return u, nil
}

// parseStat returns utime+stime (clock ticks) and rss (pages) from the
// contents of /proc/<pid>/stat. The command name, in parentheses, may hold
// spaces and parentheses itself, so fields are counted from the last ')'.
func parseStat(data []byte) (ticks uint64, rssPages int64, err error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("stat: no command name")
	}
	// Fields after the name start at field 3 (state); utime is field 14,
	// stime 15 and rss 24.
	f := bytes.Fields(data[i+1:])
	if len(f) < 22 {
		return 0, 0, fmt.Errorf("stat: %d fields", len(f)+2)
	}
	utime, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	rss, err3 := strconv.ParseInt(string(f[21]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, fmt.Errorf("stat: bad utime, stime or rss")
	}
	return utime + stime, rss, nil
}
