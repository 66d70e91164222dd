package child

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// maxLine is the longest output line logged as one record; longer lines
// are logged in pieces of this size.
const maxLine = 4096

// output forwards the child's stdout and stderr to the logger, line by
// line, through pipes the supervisor owns.
type output struct {
	readers []*os.File
	writers []*os.File
	wg      sync.WaitGroup
	close   sync.Once
}

// newOutput creates one pipe per stream. The write ends go to the child;
// start must be called once the child holds them.
func newOutput(streams ...string) (*output, error) {
	o := &output{}
	for range streams {
		r, w, err := os.Pipe()
		if err != nil {
			o.closeAll()
			return nil, fmt.Errorf("pipe: %w", err)
		}
		o.readers = append(o.readers, r)
		o.writers = append(o.writers, w)
	}
	return o, nil
}

// start closes the supervisor's copies of the write ends, so that a read
// ends when the child and its descendants are gone, and starts one reader
// goroutine per stream.
func (o *output) start(streams []string, log func(stream, line string)) {
	o.closeWriters()
	for i, r := range o.readers {
		stream := streams[i]
		o.wg.Go(func() {
			forwardLines(r, func(line string) { log(stream, line) })
		})
	}
}

// wait waits for the readers to reach end of file, at most grace; then it
// closes the read ends, which also stops readers blocked on a pipe that an
// escaped descendant keeps open.
func (o *output) wait(grace time.Duration) {
	done := make(chan struct{})
	go func() {
		o.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		o.closeAll()
		<-done
	}
	o.closeAll()
}

func (o *output) closeWriters() {
	for _, w := range o.writers {
		w.Close()
	}
}

func (o *output) closeAll() {
	o.close.Do(func() {
		o.closeWriters()
		for _, r := range o.readers {
			r.Close()
		}
	})
}

// forwardLines calls emit for every line read from r, without the line
// end. It keeps reading until r fails, so that the child never blocks on a
// full pipe.
func forwardLines(r io.Reader, emit func(string)) {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if line = bytes.TrimRight(line, "\r\n"); len(line) > 0 {
			emit(string(line))
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// logLine is the log function output.start gets for one process.
func (s *Supervisor) logLine(pid int) func(stream, line string) {
	return func(stream, line string) {
		s.log.Log(context.Background(), s.level(line), s.cfg.Redact(line),
			slog.String("stream", stream), slog.Int("pid", pid))
	}
}

// level is the level a line of output is logged at.
func (s *Supervisor) level(line string) slog.Level {
	if s.cfg.LineLevel != nil {
		return s.cfg.LineLevel(line)
	}
	return s.cfg.OutputLevel
}
