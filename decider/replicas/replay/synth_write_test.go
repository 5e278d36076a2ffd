package replay

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteSynthTestdata regenerates test/testdata/traffic/synth-*.csv; set
// TRIMTAB_WRITE_SYNTH=1. The files let anyone replay the synthetic traces
// with `trimtab simulate replicas`.
func TestWriteSynthTestdata(t *testing.T) {
	if os.Getenv("TRIMTAB_WRITE_SYNTH") == "" {
		t.Skip("set TRIMTAB_WRITE_SYNTH=1 to regenerate the synthetic traces")
	}
	for name, tr := range unseen() {
		p := filepath.Join("..", "..", "..", "test", "testdata", "traffic", name+".csv")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(f, "time,load")
		for i, v := range tr.Values {
			fmt.Fprintf(f, "%s,%.1f\n", tr.At(i).Format("2006-01-02 15:04"), v)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
