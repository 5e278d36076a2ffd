package replicasim

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteSynthTestdata regenerates test/testdata/traffic/synth-*.csv; set
// TRIMTAB_WRITE_SYNTH=1. They are 14-day versions of two of the evaluation
// traces (same generator and seed), small enough to keep in the repository,
// so anyone can replay them with `trimtab simulate replicas`.
func TestWriteSynthTestdata(t *testing.T) {
	if os.Getenv("TRIMTAB_WRITE_SYNTH") == "" {
		t.Skip("set TRIMTAB_WRITE_SYNTH=1 to regenerate the synthetic traces")
	}
	for _, name := range []string{"synth-smooth", "synth-noisy"} {
		tr := devSynth()[name]
		tr.Days = 14
		p := filepath.Join("..", "..", "test", "testdata", "traffic", name+".csv")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(f, "time,load")
		trace := tr.Trace()
		for i, v := range trace.Values {
			fmt.Fprintf(f, "%s,%.0f\n", trace.At(i).Format("2006-01-02 15:04"), v)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
