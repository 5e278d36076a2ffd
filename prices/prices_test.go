package prices

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t0 := time.Date(2015, 3, 11, 0, 0, 0, 0, time.UTC)
	m := Market{InstanceType: "c3.xlarge", Zone: "us-east-1a", Product: ProductLinux}
	for _, tc := range []struct {
		name string
		h    History
		want string
	}{
		{"ok", History{Market: m, OnDemand: 0.21, Points: []Point{{t0, 0.03}, {t0.Add(time.Minute), 0.5}}}, ""},
		{"negative", History{Market: m, Points: []Point{{t0, -0.03}}}, "point 0"},
		{"nan", History{Market: m, Points: []Point{{t0, math.NaN()}}}, "NaN"},
		{"unsorted", History{Market: m, Points: []Point{{t0, 0.03}, {t0.Add(-time.Minute), 0.03}}}, "time order"},
		{"bad on-demand", History{Market: m, OnDemand: math.Inf(1)}, "on-demand price"},
	} {
		err := tc.h.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestOnDemandLookupAndOverrides(t *testing.T) {
	m := Market{InstanceType: "m5d.large", Zone: "eu-west-3a", Product: ProductLinux}
	if p, ok := DefaultOnDemand.Lookup(m); !ok || p != 0.134 {
		t.Errorf("default m5d.large = %v %v", p, ok)
	}
	o, err := ParseOnDemandOverrides([]string{"eu-west-3/m5d.large=0.2", "eu-west-3/x1.huge=9"})
	if err != nil {
		t.Fatal(err)
	}
	tab := DefaultOnDemand.With(o)
	if p, _ := tab.Lookup(m); p != 0.2 {
		t.Errorf("override not applied: %v", p)
	}
	if p, _ := DefaultOnDemand.Lookup(m); p != 0.134 {
		t.Errorf("With mutated the default table: %v", p)
	}
	for _, bad := range []string{"m5d.large=0.2", "eu-west-3/m5d.large", "eu-west-3/m5d.large=-1", "eu-west-3/m5d.large=NaN", "/x=1"} {
		if _, err := ParseOnDemandOverrides([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

func TestAtAndRegion(t *testing.T) {
	t0 := time.Date(2015, 3, 11, 0, 0, 0, 0, time.UTC)
	h := History{Points: []Point{{t0, 1}, {t0.Add(time.Hour), 2}}}
	if _, ok := h.At(t0.Add(-time.Second)); ok {
		t.Error("price before the first point should be unknown")
	}
	if p, _ := h.At(t0.Add(30 * time.Minute)); p != 1 {
		t.Errorf("At = %v", p)
	}
	if p, _ := h.At(t0.Add(time.Hour)); p != 2 {
		t.Errorf("At = %v", p)
	}
	if RegionOf("eu-west-3a") != "eu-west-3" || (Market{InstanceType: "m5d.large"}).Family() != "m5d" {
		t.Error("RegionOf/Family")
	}
}

func TestOnDemandTableIsLinuxOnly(t *testing.T) {
	win := Market{InstanceType: "m5d.large", Zone: "eu-west-3a", Product: "Windows"}
	if _, ok := DefaultOnDemand.Lookup(win); ok {
		t.Error("a Windows market was priced from the Linux table")
	}
}
