package child

import (
	"fmt"
	"syscall"
	"time"
)

// EventKind says what happened to the child.
type EventKind int

// The kinds of Event, in the order a child's life produces them.
const (
	// Started: the process was started; PID is set.
	Started EventKind = iota + 1
	// StartFailed: the program could not be started; Err says why.
	StartFailed
	// Ready: the readiness check passed (at once when there is none).
	Ready
	// NotReady: the readiness check did not pass within ReadyTimeout; Err
	// is its last error. The child is stopped next.
	NotReady
	// Exited: the process was reaped; ExitCode, Signal and Expected are set.
	Exited
	// Restarting: the supervisor waits Delay before starting it again.
	Restarting
)

var kindNames = map[EventKind]string{
	Started:     "started",
	StartFailed: "start-failed",
	Ready:       "ready",
	NotReady:    "not-ready",
	Exited:      "exited",
	Restarting:  "restarting",
}

// String is the kind's lower-case name, e.g. "exited".
func (k EventKind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one state change of a supervised child.
type Event struct {
	Kind EventKind
	// Time the event happened.
	Time time.Time
	// PID of the process concerned; 0 for StartFailed and Restarting.
	PID int
	// ExitCode of an Exited process; -1 when a signal killed it.
	ExitCode int
	// Signal that killed an Exited process; 0 when it exited by itself.
	Signal syscall.Signal
	// Expected is true for an Exited process the supervisor stopped
	// (context ended, Restart, readiness timeout).
	Expected bool
	// Delay before the next start, for Restarting.
	Delay time.Duration
	// Err for StartFailed and NotReady.
	Err error
}
