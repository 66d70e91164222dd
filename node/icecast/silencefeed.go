package icecast

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"autoradio/internal/audioframe"
	"autoradio/internal/backoff"
)

// Feeding the live silence mounts (see silences).
const (
	// feedLead is how far ahead of the pace the audio plays a feed
	// runs: Icecast's burst for a new listener, and room for a late
	// wake-up and for feedBatch. The lead never grows.
	feedLead = 2 * time.Second
	// feedBatch is how long a feed waits, once a frame is due, for the
	// frames after it: it then sends them all in one write. A feed thus
	// wakes up a few times a second, not once a frame (38 times a
	// second for MP3), which matters with a feed per mount; its lead
	// stays between feedLead-feedBatch and feedLead.
	feedBatch = 250 * time.Millisecond
	// feedTimeout bounds the connection, the answer to the request and
	// each write.
	feedTimeout = 5 * time.Second
	// feedUserAgent is what Icecast sees as the feed's source.
	feedUserAgent = "autoradio-radiod silence feed"
)

// silenceFeed is one live silence mount's feed: the file of its codec,
// the file's timeline, where it goes.
type silenceFeed struct {
	mount, contentType string
	data               []byte
	marks              []audioframe.Mark
	lead               time.Duration // feedLead
	batch              time.Duration // feedBatch
}

// feedSilence keeps a source on every live silence mount of the config
// last written (setFeeds), sending its codec's silence file at the pace
// it plays, round and round, until ctx ends. A listener whose mount loses
// its source thus hears silence at the rate it hears the mount, and keeps
// up with it through an outage of any length; Icecast sends a fallback
// file, which it plays itself, at several times that rate. A codec whose
// file is missing or unreadable is not fed (its listeners get the file
// played by Icecast), with a warning.
//
// Feeds start and stop as configs add and remove mounts; each runs in a
// goroutine of its own, which feedSilence stops, and waits for, when its
// mount goes or when ctx ends.
func (s *Server) feedSilence(ctx context.Context) error {
	files := s.loadSilenceFeeds()
	running := make(map[string]*runningFeed)
	defer func() {
		for _, r := range running {
			r.cancel()
		}
		for _, r := range running {
			<-r.done
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case want := <-s.feeds:
			s.updateFeeds(ctx, files, running, want)
		}
	}
}

// updateFeeds makes running the feeds of want (live silence mount ->
// codec), from the files of their codecs: it stops, and waits for, the
// feeds of mounts gone or of another codec now, and starts the new ones.
func (s *Server) updateFeeds(ctx context.Context, files map[string]*silenceFeed, running map[string]*runningFeed, want map[string]string) {
	for mount, r := range running {
		if r.codec != want[mount] {
			r.cancel()
			<-r.done
			delete(running, mount)
		}
	}
	for mount, codec := range want {
		if running[mount] == nil && files[codec] != nil {
			f := *files[codec]
			f.mount = mount
			running[mount] = s.startFeed(ctx, codec, &f)
		}
	}
}

// runningFeed is a feed's goroutine, owned by feedSilence.
type runningFeed struct {
	codec  string
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine returns
}

// startFeed runs keepFeeding for f in a goroutine of its own until ctx
// ends or the feed is cancelled.
func (s *Server) startFeed(ctx context.Context, codec string, f *silenceFeed) *runningFeed {
	ctx, cancel := context.WithCancel(ctx)
	r := &runningFeed{codec: codec, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		s.keepFeeding(ctx, f)
	}()
	return r
}

// setFeeds hands feedSilence the live silence mounts (and their codecs)
// of the config just written; a set it has not taken yet is replaced.
// Only one goroutine at a time calls it: NewServer, then the writer.
func (s *Server) setFeeds(feeds map[string]string) {
	select {
	case <-s.feeds:
	default:
	}
	s.feeds <- feeds
}

// feedLastConfig has the live silence mounts of the config a previous
// run left fed: Icecast runs it until the first Apply.
func (s *Server) feedLastConfig() {
	data, err := os.ReadFile(s.cfg.ConfigPath)
	var cfg xmlConfig
	if err == nil {
		err = xml.Unmarshal(data, &cfg)
	}
	if err != nil {
		s.log.Warn("the silence mounts of the last known config are not fed until the first config is written", "err", err)
		return
	}
	s.setFeeds(silenceFeeds(&cfg))
}

// loadSilenceFeeds reads the feed file of every codec; a codec whose
// file cannot be read has none.
func (s *Server) loadSilenceFeeds() map[string]*silenceFeed {
	files := make(map[string]*silenceFeed)
	for _, codec := range slices.Sorted(maps.Keys(silences)) {
		f, err := loadSilenceFeed(s.cfg.WebRoot, silences[codec])
		if err != nil {
			s.log.Warn("silence is not fed; its listeners get Icecast's faster fallback file", "codec", codec, "err", err)
			continue
		}
		files[codec] = f
	}
	return files
}

// loadSilenceFeed reads sl's feed file, for feeds of any mount.
func loadSilenceFeed(webRoot string, sl silence) (*silenceFeed, error) {
	name := filepath.Join(webRoot, filepath.FromSlash(sl.feed))
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	marks, err := audioframe.Timeline(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &silenceFeed{contentType: sl.contentType, data: data, marks: marks, lead: feedLead, batch: feedBatch}, nil
}

// keepFeeding feeds f until ctx ends, connecting again, with back-off,
// whenever Icecast refuses the feed or the connection ends. A refusal is
// logged at warn once until the feed works again; a connection Icecast
// does not take (it is restarting) only at debug.
func (s *Server) keepFeeding(ctx context.Context, f *silenceFeed) {
	b := backoff.Backoff{Initial: 500 * time.Millisecond, Max: 5 * time.Second, ResetAfter: 30 * time.Second, Jitter: true}
	warned := false
	for {
		start := time.Now()
		err := s.feed(ctx, f)
		if ctx.Err() != nil {
			return
		}
		ran := time.Since(start)
		b.Ran(ran)
		if ran >= 30*time.Second {
			warned = false
		}
		var refused *feedRefusedError
		if errors.As(err, &refused) && !warned {
			s.log.Warn("Icecast refuses the silence feed", "mount", f.mount, "err", err)
			warned = true
		} else {
			s.log.Debug("silence feed ended", "mount", f.mount, "err", err)
		}
		if !b.Wait(ctx) {
			return
		}
	}
}

// feedRefusedError is Icecast's answer to a feed it does not take.
type feedRefusedError struct{ status string }

func (e *feedRefusedError) Error() string { return "Icecast answered " + e.status }

// feed sends f to Icecast as a source, with the global source password
// (the admin password), until the connection fails or ctx ends. The body
// is the raw stream: Icecast does not de-chunk.
func (s *Server) feed(ctx context.Context, f *silenceFeed) error {
	u, err := url.Parse(s.cfg.URL)
	if err != nil {
		return err
	}
	d := net.Dialer{Timeout: feedTimeout}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	auth := base64.StdEncoding.EncodeToString([]byte("source:" + s.cfg.AdminPassword))
	// No Ice-* headers: a relay of another node that connects to a mount
	// while it falls back to this one keeps the headers it got then
	// (see README, "Works with"), and they must not name the silence.
	req := fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"+
		"Content-Type: %s\r\nUser-Agent: %s\r\n\r\n",
		f.mount, u.Host, auth, f.contentType, feedUserAgent)
	conn.SetDeadline(time.Now().Add(feedTimeout))
	if _, err := conn.Write([]byte(req)); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodPut})
	if err != nil {
		return fmt.Errorf("reading Icecast's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return &feedRefusedError{resp.Status}
	}
	conn.SetReadDeadline(time.Time{})
	s.feeding.Add(1)
	defer s.feeding.Add(-1)
	return f.send(ctx, conn, time.Now())
}

// send writes f's data to conn round and round, each frame once the
// time since start reaches the time it starts to play, less f.lead, and
// at most f.batch after that. Frames due together go in one write.
func (f *silenceFeed) send(ctx context.Context, conn net.Conn, start time.Time) error {
	length := f.marks[len(f.marks)-1].At
	timer := time.NewTimer(0)
	defer timer.Stop()
	for loop := time.Duration(0); ; loop += length {
		from := 0
		for i := 0; i < len(f.marks); {
			now := time.Since(start) + f.lead
			j := i
			for j < len(f.marks) && frameStart(f.marks, j, loop) <= now {
				j++
			}
			if j == i {
				timer.Reset(frameStart(f.marks, i, loop) - now + f.batch)
				select {
				case <-timer.C:
				case <-ctx.Done():
					return ctx.Err()
				}
				continue
			}
			end := f.marks[j-1].End
			conn.SetWriteDeadline(time.Now().Add(feedTimeout))
			if _, err := conn.Write(f.data[from:end]); err != nil {
				return err
			}
			from, i = end, j
		}
	}
}

// frameStart is when frame i of marks starts to play in the loop that
// starts at loop.
func frameStart(marks []audioframe.Mark, i int, loop time.Duration) time.Duration {
	if i == 0 {
		return loop
	}
	return loop + marks[i-1].At
}
