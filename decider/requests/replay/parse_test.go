package replay

import (
	"strings"
	"testing"
	"time"
)

const bbHeader = "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\tCPU usage [%];\tMemory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s]\n"

func TestParseFormats(t *testing.T) {
	bb := bbHeader +
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
		{"one row", h + "1,1,1\n", "1 data rows"},
		{"unknown header", "time;foo\n1;2\n", "line 1: header"},
		{"missing column", h + "1,1\n2,1,1\n", "line 2: 2 columns"},
		{"bad timestamp", h + "yesterday,1,1\n2,1,1\n", `line 2: timestamp "yesterday"`},
		{"bad cpu", h + "1,lots,1\n2,1,1\n", `line 2: cpu "lots"`},
		{"negative memory", h + "1,1,-5\n2,1,1\n", `line 2: memory "-5"`},
		{"NaN cpu", h + "1,NaN,1\n2,1,1\n", `line 2: cpu "NaN"`},
		{"out of order", h + "5,1,1\n4,1,1\n", "line 3: timestamp 1970-01-01T00:00:04Z is not after"},
		{"duplicate time", h + "5,1,1\n5,1,1\n", "line 3: timestamp"},
		{"bitbrains short row", bbHeader + "1;2;3\n", "line 2: 3 columns"},
		{"bitbrains NaN usage", bbHeader + "1;2;100;NaN;0;10;10;0\n", "line 2: column 4 (CPU usage [MHZ])"},
		{"bitbrains zero cores", bbHeader + "1;0;100;5;0;10;10;0\n", "line 2: CPU cores 0"},
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
	f.Add("timestamp,cpu,memory\n1,1,1\n2,250m,1Gi\n")
	f.Add(bbHeader + "1;2;100;5;0;10;10;0\n2;2;100;5;0;10;10;0\n")
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
	})
}
