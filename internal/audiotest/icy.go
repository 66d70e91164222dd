package audiotest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// IcyStream is a stream requested with Icy metadata (Icy-MetaData: 1):
// metaint bytes of audio, then a metadata block, over and over.
type IcyStream struct {
	r       *bufio.Reader
	body    io.Closer
	Metaint int
}

// ListenIcy requests url with Icy metadata, following redirects; the
// stream ends with ctx or Close.
func ListenIcy(ctx context.Context, url string) (*IcyStream, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Icy-MetaData", "1")
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, err
	}
	metaint, err := strconv.Atoi(resp.Header.Get("Icy-MetaInt"))
	if resp.StatusCode != http.StatusOK || err != nil || metaint <= 0 {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s with Icy-MetaData: %s, Icy-MetaInt %q", url, resp.Status, resp.Header.Get("Icy-MetaInt"))
	}
	return &IcyStream{r: bufio.NewReader(resp.Body), body: resp.Body, Metaint: metaint}, nil
}

// NextMeta reads the audio up to the next metadata block, and returns
// the block without its padding ("" for an empty block).
func (s *IcyStream) NextMeta() (string, error) {
	if _, err := s.r.Discard(s.Metaint); err != nil {
		return "", err
	}
	n, err := s.r.ReadByte()
	if err != nil {
		return "", err
	}
	meta := make([]byte, 16*int(n))
	if _, err := io.ReadFull(s.r, meta); err != nil {
		return "", err
	}
	return strings.TrimRight(string(meta), "\x00"), nil
}

// WaitMeta reads metadata blocks until one is want, or the stream ends.
func (s *IcyStream) WaitMeta(want string) error {
	for {
		m, err := s.NextMeta()
		if err != nil {
			return fmt.Errorf("waiting for %q in the stream: %w", want, err)
		}
		if m == want {
			return nil
		}
	}
}

// Close ends the stream.
func (s *IcyStream) Close() error { return s.body.Close() }
