package loadexporter

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/trimtab-dev/trimtab/simulate/replicasim"
)

const openingFile = "../testdata/traffic/synth-opening.csv"

// TestOpeningTraceFile holds test/testdata/traffic/synth-opening.csv to
// OpeningTrace; TRIMTAB_WRITE_SYNTH=1 rewrites it.
func TestOpeningTraceFile(t *testing.T) {
	tr := OpeningTrace(8)
	var b strings.Builder
	b.WriteString("time,load\n")
	for i, v := range tr.Values {
		fmt.Fprintf(&b, "%s,%.1f\n", tr.At(i).Format("2006-01-02 15:04"), v)
	}
	if os.Getenv("TRIMTAB_WRITE_SYNTH") != "" {
		if err := os.WriteFile(openingFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(openingFile)
	if err != nil || string(got) != b.String() {
		t.Fatalf("%s is not OpeningTrace(8) (%v); regenerate with TRIMTAB_WRITE_SYNTH=1 go test ./test/loadexporter -run TestOpeningTraceFile", openingFile, err)
	}
	f, err := os.Open(openingFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parsed, err := replicasim.ParseTrace(f, "", "")
	if err != nil || len(parsed.Values) != 8*1440 {
		t.Fatalf("parsing %s: %d samples, %v", openingFile, len(parsed.Values), err)
	}
}
