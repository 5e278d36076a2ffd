package requestsim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/requests"
)

const bbHeader = "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\tCPU usage [%];\tMemory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s]\n"

func TestParseFormats(t *testing.T) {
	bb := bbHeader +
		"1372629504;\t0;\t0.0;\t0.0;\t0.0;\t0.0;\t0.0;\t0\n" + // not provisioned yet: a gap
		"1372629804;\t2;\t5851.9989;\t2925.99945;\t50;\t8218624.0;\t1048576.0;\t0\n" +
		"\n" + // blank lines are skipped
		"1372630104;\t2;\t5851.9989;\t0;\t0;\t8218624.0;\t0;\t0\n"
	tr, err := Parse(strings.NewReader(bb))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Samples) != 2 || tr.Samples[0].CPU != 1 || tr.Samples[0].Memory != 1<<30 || !tr.Samples[0].Time.Equal(time.Unix(1372629804, 0)) {
		t.Errorf("Bitbrains parsed as %+v", tr.Samples)
	}
	if tr.Unprovisioned != 1 {
		t.Errorf("unprovisioned rows = %d, want 1", tr.Unprovisioned)
	}
	if tr.Provisioned.CPU != 2 || tr.Provisioned.Memory != 8218624*1024 {
		t.Errorf("provisioned = %+v, want 2 cores and 8218624 KiB", tr.Provisioned)
	}

	plain := "timestamp,cpu,memory\n1700000000,0.5,1073741824\n2023-11-14T22:18:20Z,250m,512Mi\n"
	tr, err = Parse(strings.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Samples[0].CPU != 0.5 || tr.Samples[1].CPU != 0.25 || tr.Samples[1].Memory != 512<<20 || tr.Provisioned.CPU != 0 {
		t.Errorf("plain parsed as %+v, provisioned %+v", tr.Samples, tr.Provisioned)
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	const h = "timestamp,cpu,memory\n"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"header only", h, "0 data rows"},
		{"one row", h + "1700000001,1,1\n", "1 data rows"},
		{"unknown header", "time;foo\n1;2\n", "line 1: header"},
		{"missing column", h + "1700000001,1\n1700000002,1,1\n", "line 2: 2 columns"},
		{"bad timestamp", h + "yesterday,1,1\n1700000002,1,1\n", `line 2: timestamp "yesterday"`},
		{"bad cpu", h + "1700000001,lots,1\n1700000002,1,1\n", `line 2: cpu "lots"`},
		{"negative memory", h + "1700000001,1,-5\n1700000002,1,1\n", `line 2: memory "-5"`},
		{"NaN cpu", h + "1700000001,NaN,1\n1700000002,1,1\n", `line 2: cpu "NaN"`},
		{"out of order", h + "1700000005,1,1\n1700000004,1,1\n", "line 3: timestamp 2023-11-14T22:13:24Z is not after"},
		{"duplicate time", h + "1700000005,1,1\n1700000005,1,1\n", "line 3: timestamp"},
		{"epoch", h + "0,1,1\n1700000002,1,1\n", `line 2: timestamp "0": want Unix seconds from 3600`},
		{"far future", h + "1700000001,1,1\n9000000000000000000,1,1\n", `line 3: timestamp "9000000000000000000"`},
		{"milliseconds", h + "1700000001000,1,1\n1700000002000,1,1\n", "looks like milliseconds"},
		{"year 1", h + "0001-01-01T00:00:00Z,1,1\n1700000002,1,1\n", `line 2: timestamp "0001-01-01T00:00:00Z": want a time from`},
		{"bitbrains huge timestamp", bbHeader + "1e19;2;100;5;0;10;10;0\n", `line 2: timestamp "1e19"`},
		{"bitbrains memory overflows", bbHeader + "1700000001;2;100;5;0;10;1e306;0\n", "line 2: column 7 (Memory usage [KB])"},
		{"bitbrains CPU overflows", bbHeader + "1700000001;1;1e-300;1e300;0;10;10;0\n", "line 2: column 4 (CPU usage [MHZ])"},
		{"huge cpu", h + "1700000001,1e308,1\n1700000002,1,1\n", `line 2: cpu "1e308": more than`},
		{"huge memory", h + "1700000001,1,1e300\n1700000002,1,1\n", `line 2: memory "1e300": more than`},
		{"bitbrains short row", bbHeader + "1700000001;2;3\n", "line 2: 3 columns"},
		{"bitbrains NaN usage", bbHeader + "1700000001;2;100;NaN;0;10;10;0\n", "line 2: column 4 (CPU usage [MHZ])"},
		{"bitbrains zero cores", bbHeader + "1700000001;0;100;5;0;10;10;0\n", "line 2: CPU cores 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add("timestamp,cpu,memory\n1700000001,1,1\n1700000002,250m,1Gi\n")
	f.Add(bbHeader + "1700000001;2;100;5;0;10;10;0\n1700000002;2;100;5;0;10;10;0\n")
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		for i, s := range tr.Samples {
			if s.CPU < 0 || s.Memory < 0 || (i > 0 && !s.Time.After(tr.Samples[i-1].Time)) {
				t.Fatalf("Parse accepted bad sample %d: %+v", i, s)
			}
		}
		// Whatever Parse accepts replays, or fails with an error, and the
		// result encodes as JSON (which has no NaN or Inf).
		r, err := Run(tr, Options{LeakRate: 40 * requests.MiB})
		if err != nil {
			return
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("result of an accepted trace does not encode: %v", err)
		}
	})
}
