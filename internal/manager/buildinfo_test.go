package manager

import (
	"runtime"
	"testing"

	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/trimtab-dev/trimtab/internal/version"
)

// TestBuildInfo reads trimtab_build_info back from the registry the
// metrics endpoint serves.
func TestBuildInfo(t *testing.T) {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	v, c := version.Get()
	want := map[string]string{"version": v, "commit": c, "goversion": runtime.Version()}
	for _, f := range families {
		if f.GetName() != "trimtab_build_info" {
			continue
		}
		if len(f.Metric) != 1 || f.Metric[0].GetGauge().GetValue() != 1 {
			t.Fatalf("trimtab_build_info: %v, want one series with value 1", f.Metric)
		}
		got := map[string]string{}
		for _, l := range f.Metric[0].Label {
			got[l.GetName()] = l.GetValue()
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("trimtab_build_info label %s=%q, want %q", k, got[k], w)
			}
		}
		return
	}
	t.Fatal("trimtab_build_info is not registered")
}
