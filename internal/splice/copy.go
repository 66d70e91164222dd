package splice

import (
	"io"
	"net"
	"time"
)

// Copy copies src to dst through buf until reading src or writing dst
// fails, or count fails. conn is the connection under src (src may first
// hold bytes already read from it): with idle > 0, each read must bring
// data within idle. Each write must be done within wait. After each write,
// count (when not nil) is told how many bytes went; an error from it ends
// the copy. Copy returns what ended it: io.EOF at the end of src.
func Copy(dst net.Conn, src io.Reader, conn net.Conn, buf []byte, idle, wait time.Duration, count func(int) error) error {
	for {
		if idle > 0 {
			conn.SetReadDeadline(time.Now().Add(idle))
		}
		n, err := src.Read(buf)
		if n > 0 {
			dst.SetWriteDeadline(time.Now().Add(wait))
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
			if count != nil {
				if cerr := count(n); cerr != nil {
					return cerr
				}
			}
		}
		if err != nil {
			return err
		}
	}
}
