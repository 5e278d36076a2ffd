package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseBudget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Budget
		err  string
	}{
		{"2/1m", Budget{2, time.Minute}, ""},
		{"0/30s", Budget{0, 30 * time.Second}, ""},
		{"2", Budget{}, `budget "2": want evictions/duration`},
		{"-1/1m", Budget{}, `"-1" is not a whole number ≥ 0`},
		{"x/1m", Budget{}, `"x" is not a whole number`},
		{"2/0s", Budget{}, `"0s" is not a positive duration`},
		{"2/soon", Budget{}, `"soon" is not a positive duration`},
	} {
		got, err := ParseBudget(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseBudget(%q): %v, want an error with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseBudget(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, err := ParseBudget(got.String()); err != nil || back != got {
			t.Errorf("String %q does not parse back: %v %v", got.String(), back, err)
		}
	}
}

func TestPlacerSettingsValidate(t *testing.T) {
	if err := DefaultPlacerSettings().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	s := DefaultPlacerSettings()
	s.InterruptionTaints = append(s.InterruptionTaints, "not a key!")
	s.InterruptionConditions = []string{"Bad Condition"}
	s.WorkloadBudget = Budget{Evictions: -1, Per: time.Minute}
	s.BackoffMax = time.Second
	s.MaxMoves = 0
	err := s.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{`placer.interruptionTaints[5]: Invalid value: "not a key!"`, `placer.interruptionConditions[0]`,
		`placer.workloadBudget: Invalid value: "-1/1m0s"`, `placer.backoffMax: Invalid value: "1s"`, `placer.maxMoves`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
