package bandwidth

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseNetDev(t *testing.T) {
	tests := []struct {
		file  string
		count int
		want  map[string]Counters
	}{
		{"net-dev.txt", 3, map[string]Counters{
			"lo":   {ReceiveBytes: 9296, ReceivePackets: 100, TransmitBytes: 9296, TransmitPackets: 100},
			"eth0": {ReceiveBytes: 193406671, ReceivePackets: 8887, TransmitBytes: 589218, TransmitPackets: 6160},
			"ifb0": {},
		}},
		{"net-dev-long-names.txt", 6, map[string]Counters{
			"enp0s31f6": {ReceiveBytes: 3150724520612, ReceivePackets: 2843911227, ReceiveDropped: 4112,
				ReceiveMulticast: 20387, TransmitBytes: math.MaxUint64, TransmitPackets: 4271837001,
				TransmitErrors: 3, TransmitDropped: 12},
			"enx00e04c680123": {54321, 210, 1, 2, 3, 4, 5, 6, 65432, 310, 7, 8, 9, 10, 11, 12},
			"veth1a2b3c4":     {TransmitBytes: 936, TransmitPackets: 12},
			"wg0": {ReceiveBytes: 12345678901234567, ReceivePackets: 1,
				TransmitBytes: 98765432109876543, TransmitPackets: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseNetDev(fixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.count {
				t.Errorf("%d interfaces, want %d: %v", len(got), tt.count, got)
			}
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("%s:\n got %+v\nwant %+v", name, got[name], want)
				}
			}
		})
	}
}

func TestParseNetDevRejectsBadLines(t *testing.T) {
	tests := map[string]string{
		"net-dev-short-line.txt": "line 4: 14 counters, want 16",
		"net-dev-bad-number.txt": "line 3: counter 9",
		"net-dev-no-colon.txt":   "line 3: no colon",
	}
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			_, err := ParseNetDev(fixture(t, file))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v, want one containing %q", err, want)
			}
		})
	}
}

func TestParseNetDevEmpty(t *testing.T) {
	got, err := ParseNetDev(nil)
	if err != nil || len(got) != 0 {
		t.Errorf("ParseNetDev(nil) = %v, %v; want empty, nil", got, err)
	}
}

func TestReadNetDevOfThisMachine(t *testing.T) {
	got, err := ReadNetDev("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["lo"]; !ok {
		t.Errorf("no lo in /proc/net/dev: %v", got)
	}
}

func TestParseDefaultRoute(t *testing.T) {
	got, err := ParseDefaultRoute(fixture(t, "route.txt"))
	if err != nil || got != "enp0s31f6" {
		t.Errorf("ParseDefaultRoute(route.txt) = %q, %v; want enp0s31f6 (lowest metric, up)", got, err)
	}
	if _, err := ParseDefaultRoute(fixture(t, "route-no-default.txt")); !errors.Is(err, ErrNoDefaultRoute) {
		t.Errorf("without a default route: error %v, want ErrNoDefaultRoute", err)
	}
	if _, err := ParseDefaultRoute([]byte("Iface\tDestination\neth0\t00000000\n")); err == nil {
		t.Error("a truncated line parsed")
	}
}

func BenchmarkParseNetDev(b *testing.B) {
	data := fixture(b, "net-dev-long-names.txt")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseNetDev(data); err != nil {
			b.Fatal(err)
		}
	}
}
