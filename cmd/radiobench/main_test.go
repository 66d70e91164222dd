package main

import (
	"reflect"
	"testing"

	"autoradio/internal/loadgen"
)

func TestParseWatch(t *testing.T) {
	got, err := parseWatch("nginx=12,13")
	want := loadgen.Process{Name: "nginx", PIDs: []int{12, 13}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseWatch = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"nginx", "=12", "nginx=", "nginx=x", "nginx=0"} {
		if _, err := parseWatch(bad); err == nil {
			t.Errorf("parseWatch(%q) accepted it", bad)
		}
	}
}
