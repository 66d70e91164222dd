package autoradio

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// jsonKeys returns the sorted top-level keys of a JSON object.
func jsonKeys(t *testing.T, data []byte) []string {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		t.Fatalf("not a JSON object: %s: %v", data, err)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	return sorted(keys...)
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sorted(s ...string) []string { slices.Sort(s); return s }

func fullMount() *Mount {
	return &Mount{
		Name: "/live-64.mp3", Username: "sourceabc", Password: "secret",
		RelayURL: "http://up.example.org:8000/s.mp3", Fallback: "/backup.mp3",
		Transcoding: &Transcoding{SourceName: "/live.ogg", Codec: CodecMP3, Bitrate: 64,
			SampleRate: 44100, Channels: 2, StereoMode: StereoModeJointStereo},
	}
}

func TestMountJSON(t *testing.T) {
	m := fullMount()
	m.Transcoding.Quality = new(2.0) // every field set, even if not a valid pair
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jsonKeys(t, data), sorted("name", "username", "password", "relay_url", "fallback", "transcoding"); !slices.Equal(got, want) {
		t.Errorf("mount keys %q, want %q", got, want)
	}
	var raw struct{ Transcoding json.RawMessage }
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if got, want := jsonKeys(t, raw.Transcoding), sorted("source_name", "codec", "bitrate", "quality", "samplerate", "channels", "stereo_mode"); !slices.Equal(got, want) {
		t.Errorf("transcoding keys %q, want %q", got, want)
	}
	var back Mount
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, m) {
		t.Errorf("round trip: %+v, want %+v", back, m)
	}
}

func TestMountJSONOmitsEmptyFields(t *testing.T) {
	data, err := json.Marshal(&Mount{Name: "/a"})
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"name":"/a"}` {
		t.Errorf("minimal mount is %s", data)
	}
	data, err = json.Marshal(&Mount{Name: "/a", Transcoding: &Transcoding{SourceName: "/b", Codec: CodecOpus}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"/a","transcoding":{"source_name":"/b","codec":"opus"}}`; string(data) != want {
		t.Errorf("got %s, want %s", data, want)
	}
}

// A quality of 0 (the best mp3 VBR, a valid vorbis quality) is a value,
// not "unset".
func TestTranscodingQualityZero(t *testing.T) {
	tr := Transcoding{SourceName: "/live.ogg", Codec: CodecMP3, Quality: new(0.0)}
	data, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"quality":0`) {
		t.Fatalf("JSON %s has no quality 0", data)
	}
	var back Transcoding
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Quality == nil || *back.Quality != 0 {
		t.Fatalf("quality 0 read back as %v", back.Quality)
	}
	if back.ApplyDefaults(); back.Bitrate != 0 || back.Validate() != nil {
		t.Errorf("quality 0 got bitrate %d, validation %v", back.Bitrate, back.Validate())
	}
}

func TestMountYAML(t *testing.T) {
	m := fullMount()
	data, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := mapKeys(doc), sorted("name", "username", "password", "relay_url", "fallback", "transcoding"); !slices.Equal(got, want) {
		t.Errorf("YAML keys %q, want %q", got, want)
	}
	tr, _ := doc["transcoding"].(map[string]any)
	if got, want := mapKeys(tr), sorted("source_name", "codec", "bitrate", "samplerate", "channels", "stereo_mode"); !slices.Equal(got, want) {
		t.Errorf("YAML transcoding keys %q, want %q (no unset quality)", got, want)
	}
	var back Mount
	if err := yaml.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, m) {
		t.Errorf("round trip: %+v, want %+v", back, m)
	}
}

func TestNodeStatusJSON(t *testing.T) {
	n := &NodeStatus{
		Name: "n1", IPs: []string{"127.0.0.11", "::1"}, IcecastPort: 8000, IcecastOK: true, IsMaster: true,
		Mounts: []MountStatus{
			{Name: "/a.ogg", Listeners: 3, SourceConnected: true, BitrateKbps: 128},
			{Name: "/b.ogg"},
		},
		Listeners: 3, MaxListeners: 1000, BandwidthBps: 384000.5, BandwidthLimitBps: 1e8,
		UpdatedAt: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
	}
	data, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	want := sorted("name", "ips", "icecast_port", "icecast_ok", "is_master", "mounts", "listeners",
		"max_listeners", "bandwidth_bps", "bandwidth_limit_bps", "updated_at")
	if got := jsonKeys(t, data); !slices.Equal(got, want) {
		t.Errorf("node keys %q, want %q", got, want)
	}
	var raw struct{ Mounts []json.RawMessage }
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if got, want := jsonKeys(t, raw.Mounts[0]), sorted("name", "listeners", "source_connected", "bitrate_kbps"); !slices.Equal(got, want) {
		t.Errorf("mount status keys %q, want %q", got, want)
	}
	if got, want := jsonKeys(t, raw.Mounts[1]), sorted("name", "listeners", "source_connected"); !slices.Equal(got, want) {
		t.Errorf("mount status without bitrate: keys %q, want %q", got, want)
	}
	back, err := DecodeNodeStatus(NodeKey("n1"), data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, n) {
		t.Errorf("round trip: %+v, want %+v", back, n)
	}
}

func TestMasterInfoJSON(t *testing.T) {
	m := &MasterInfo{Name: "n1", IPs: []string{"127.0.0.11"}, IcecastPort: 8000}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"n1","ips":["127.0.0.11"],"icecast_port":8000}`; string(data) != want {
		t.Errorf("got %s, want %s", data, want)
	}
	back, err := DecodeMasterInfo(data)
	if err != nil || !reflect.DeepEqual(back, m) {
		t.Errorf("DecodeMasterInfo = %+v, %v", back, err)
	}
	if back.IcecastAddr() != "127.0.0.11:8000" {
		t.Errorf("IcecastAddr = %q", back.IcecastAddr())
	}
}

func TestDecodeRejectsBadRecords(t *testing.T) {
	for _, tc := range []struct {
		name, key, value, err string
		node                  bool
	}{
		{"not JSON", MountKey("/a"), `{"name":`, "mount record /icecast/mounts/a", false},
		{"name differs from key", MountKey("/a"), `{"name":"/b"}`, "does not match its key", false},
		{"invalid mount", MountKey("/a.m3u"), `{"name":"/a.m3u"}`, "must not end in .m3u", false},
		{"node without name", NodeKey("n"), `{"ips":["127.0.0.1"],"icecast_port":8000}`, "no name", true},
		{"node with bad IP", NodeKey("n"), `{"name":"n","ips":["host"],"icecast_port":8000}`, `bad IP address "host"`, true},
		{"node without port", NodeKey("n"), `{"name":"n","ips":["127.0.0.1"]}`, "bad Icecast port 0", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.node {
				_, err = DecodeNodeStatus(tc.key, []byte(tc.value))
			} else {
				_, err = DecodeMount(tc.key, []byte(tc.value))
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("got %v, want an error with %q", err, tc.err)
			}
		})
	}
}
