package httpfe

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"

	"autoradio"
)

// serverAccepts reports whether Go's HTTP/1 server would hand r to a
// handler: the checks its readRequest makes after http.ReadRequest.
func serverAccepts(r *http.Request) bool {
	if r.ProtoMajor != 1 {
		return false
	}
	if hosts := r.Header.Values("Host"); len(hosts) > 1 || len(hosts) == 1 && !httpguts.ValidHostHeader(hosts[0]) {
		return false
	}
	for k, vs := range r.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return false
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return false
			}
		}
	}
	return true
}

// For any source request Go's server accepts for a valid mount path, the
// head sent to Icecast is one request line for that mount, header lines
// only, and one empty line at the end: nothing a source sends can add a
// request or a header of its own making. It never frames the body (the
// front-end de-chunks a chunked one), and a chunked request's head has no
// length either.
func FuzzSourceRequestHead(f *testing.F) {
	f.Add("SOURCE /live.ogg HTTP/1.0\r\nAuthorization: Basic c291cmNlOnA=\r\nContent-Type: audio/ogg\r\nIce-Name: x\r\n\r\n")
	f.Add("PUT /a.mp3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nicy-br: 128\r\nIce-Public: 1\r\n\r\n")
	f.Add("PUT /a.mp3 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nUser-Agent: a\r\n b\r\nICE-x: \xff\r\n\r\n")
	f.Add("PUT /a.mp3 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil || !serverAccepts(r) || autoradio.ValidateMountPath(r.URL.Path) != nil {
			return
		}
		const host = "192.0.2.1:8000"
		head := string(sourceRequestHead(r, r.URL.Path, host, false))
		lines, ok := strings.CutSuffix(head, "\r\n\r\n")
		if !ok {
			t.Fatalf("head does not end with an empty line: %q", head)
		}
		split := strings.Split(lines, "\r\n")
		for _, l := range split {
			if l == "" || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("line %q in head %q", l, head)
			}
		}
		if want := r.Method + " " + r.URL.Path + " " + r.Proto; split[0] != want {
			t.Fatalf("request line %q, want %q", split[0], want)
		}
		hosts := 0
		for _, l := range split[1:] {
			k, v, ok := strings.Cut(l, ": ")
			if !ok || !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(v) {
				t.Fatalf("header line %q in head %q", l, head)
			}
			switch textproto.CanonicalMIMEHeaderKey(k) {
			case "Host":
				hosts++
			case "Transfer-Encoding":
				t.Fatalf("Transfer-Encoding in head %q", head)
			case "Content-Length":
				if len(r.TransferEncoding) > 0 {
					t.Fatalf("Content-Length in the head %q of a chunked request", head)
				}
			}
		}
		if hosts != 1 {
			t.Fatalf("%d Host headers in head %q", hosts, head)
		}
		// Icecast reads it as the same request.
		again, err := http.ReadRequest(bufio.NewReader(strings.NewReader(head)))
		if err != nil || again.Method != r.Method || again.URL.Path != r.URL.Path || again.Host != host || again.TransferEncoding != nil {
			t.Fatalf("head %q reads back as %v, %v", head, again, err)
		}
	})
}

// Whatever Icecast answers a source, what is copied to the source is
// exactly what Icecast sent, up to and including the empty line that ends
// its final (not 1xx) response head; the bytes after it stay unread.
func FuzzResponseHead(f *testing.F) {
	f.Add([]byte("HTTP/1.0 200 OK\r\nServer: Icecast 2.4.4\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nrest"))
	f.Add([]byte("HTTP/1.0 401 Authentication Required\r\nWWW-Authenticate: Basic realm=\"Icecast2 Server\"\r\n\n<html>"))
	f.Add([]byte("HTTP/1.0 403 Mountpoint in use\r\n"))
	f.Add([]byte("ICY 200 OK\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 99 x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, resp []byte) {
		src := bytes.NewReader(resp)
		in := bufio.NewReaderSize(src, 2<<10)
		var out bytes.Buffer
		w := bufio.NewWriterSize(&out, 512)
		code, err := readResponseHead(in, w)
		w.Flush()
		if !bytes.HasPrefix(resp, out.Bytes()) {
			t.Fatalf("copied %q, not a prefix of %q", out.Bytes(), resp)
		}
		if err != nil {
			if code != 0 {
				t.Fatalf("code %d with error %v", code, err)
			}
			return
		}
		if code < 200 || code > 999 {
			t.Fatalf("final code %d", code)
		}
		head := out.Bytes()
		if !bytes.HasSuffix(head, []byte("\n\n")) && !bytes.HasSuffix(head, []byte("\n\r\n")) {
			t.Fatalf("head %q does not end with an empty line", head)
		}
		if kept := in.Buffered() + src.Len(); len(head)+kept != len(resp) {
			t.Fatalf("copied %d and kept %d of %d bytes", len(head), kept, len(resp))
		}
		if c, err := parseStatusLine(string(head[:bytes.IndexByte(head, '\n')+1])); err != nil || c < 100 {
			t.Fatalf("head %q starts with no status line: %v", head, err)
		}
	})
}
