package replicasim

import (
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseTimeFormats(t *testing.T) {
	want := time.Date(1995, 7, 1, 0, 1, 0, 0, time.UTC)
	for _, s := range []string{"1995-07-01T00:01:00Z", "1995-07-01 00:01", "1995-07-01 00:01:00", "804556860"} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
}

// day makes a day of minute rows starting at 2026-03-02 00:00.
func day(fmtRow func(i int) string) string {
	var b strings.Builder
	b.WriteString("time,load\n")
	for i := range 24 * 60 {
		b.WriteString(fmtRow(i))
		b.WriteByte('\n')
	}
	return b.String()
}

func minute(i int) string {
	return time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute).Format("2006-01-02 15:04")
}

func TestParseTraceErrors(t *testing.T) {
	ok := day(func(i int) string { return minute(i) + ",10" })
	cases := []struct {
		name, csv, timeCol, valueCol, wantErr string
	}{
		{"empty file", "", "", "", "0 data rows"},
		{"header only", "time,load\n", "", "", "0 data rows"},
		{"non-numeric cell", strings.Replace(ok, minute(5)+",10", minute(5)+",ten", 1), "", "", `line 7: value "ten"`},
		{"negative value", strings.Replace(ok, minute(5)+",10", minute(5)+",-3", 1), "", "", "line 7"},
		{"bad time", strings.Replace(ok, minute(5), "yesterday", 1), "", "", `time "yesterday"`},
		{"unsorted", strings.Replace(ok, minute(5)+",10", minute(3)+",10", 1), "", "", "unsorted timestamp"},
		{"duplicate", strings.Replace(ok, minute(5)+",10", minute(4)+",10", 1), "", "", "duplicate timestamp"},
		{"shorter than a day", "time,load\n" + minute(0) + ",1\n" + minute(1) + ",2\n", "", "", "need at least 24h0m0s"},
		{"irregular", strings.Replace(ok, minute(5)+",10", time.Date(2026, 3, 2, 0, 5, 20, 0, time.UTC).Format(time.RFC3339)+",10", 1), "", "", "not a multiple"},
		{"mostly gaps", strings.Replace(ok, minute(5)+",10", time.Date(2026, 3, 2, 0, 5, 30, 0, time.UTC).Format(time.RFC3339)+",10", 1), "", "", "samples missing"},
		{"unknown column", ok, "when", "", `column "when"`},
		{"missing column", ok, "", "3", "need column 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTrace(strings.NewReader(tc.csv), tc.timeCol, tc.valueCol)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseTraceGapsAndColumns(t *testing.T) {
	// Value in the third column, named; Unix seconds; rows 100..159 missing.
	var b strings.Builder
	b.WriteString("id,ts,rpm\n")
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).Unix()
	for i := range 24*60 + 10 {
		if i >= 100 && i < 160 {
			continue
		}
		b.WriteString("x," + itoa(start+int64(i)*60) + "," + itoa(int64(i)) + "\n")
	}
	tr, err := ParseTrace(strings.NewReader(b.String()), "ts", "rpm")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Step != time.Minute || tr.Gaps != 60 || len(tr.Values) != 24*60+10 {
		t.Fatalf("step %s, gaps %d, len %d", tr.Step, tr.Gaps, len(tr.Values))
	}
	if !math.IsNaN(tr.Values[130]) || tr.Values[160] != 160 {
		t.Errorf("gap not NaN or values shifted: %v %v", tr.Values[130], tr.Values[160])
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestParseSharedSlice(t *testing.T) {
	f, err := os.Open("../../test/testdata/traffic/nasa-http-1995-07-03-3days.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := ParseTrace(f, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Values) != 3*24*60 || tr.Step != time.Minute {
		t.Errorf("got %d samples of %s", len(tr.Values), tr.Step)
	}
}
