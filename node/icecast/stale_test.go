package icecast

import "testing"

func TestIsIcecastWith(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"/usr/bin/icecast2", "-c", "/var/lib/autoradio/icecast.xml"}, true},
		{[]string{"icecast2", "-b", "-c", "/var/lib/autoradio/icecast.xml"}, true},
		{[]string{"/usr/bin/icecast2", "-c", "/etc/icecast2/icecast.xml"}, false},
		{[]string{"/usr/bin/vim", "-c", "/var/lib/autoradio/icecast.xml"}, false},
		{[]string{"/usr/bin/icecast2", "-c"}, false},
		{[]string{"/usr/bin/icecast2"}, false},
	} {
		if got := isIcecastWith(tc.args, "icecast2", "/var/lib/autoradio/icecast.xml"); got != tc.want {
			t.Errorf("isIcecastWith(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
