package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	in := `goos: linux
goarch: amd64
pkg: github.com/trimtab-dev/trimtab/decider
cpu: whatever
BenchmarkDecide-2   	  100000	     11234 ns/op	    512 B/op	       3 allocs/op
BenchmarkCycle-2    	       3	 400000000 ns/op	         0.41 s/10k-workloads
PASS
ok  	github.com/trimtab-dev/trimtab/decider	2.1s
`
	var out bytes.Buffer
	ok, err := format(strings.NewReader(in), &out)
	if err != nil || !ok {
		t.Fatalf("format: ok=%v err=%v", ok, err)
	}
	got := out.String()
	for _, want := range []string{"decider", "BenchmarkDecide-2", "11234", "s/10k-workloads", "0.41", "allocs/op"} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "goos") || strings.Contains(got, "ok  ") {
		t.Errorf("table keeps noise lines:\n%s", got)
	}
}

func TestFormatReportsFailure(t *testing.T) {
	ok, err := format(strings.NewReader("--- FAIL: BenchmarkX\nFAIL\n"), &bytes.Buffer{})
	if err != nil || ok {
		t.Fatalf("format of a failed run: ok=%v err=%v, want ok=false", ok, err)
	}
}
