package config

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Settings)
		want   []string // substrings of the error, in order; none means valid
	}{
		{"default", func(*Settings) {}, nil},
		{"untainted spot nodes", func(s *Settings) { s.SpotTaint = corev1.Taint{} }, nil},
		{"no excluded namespaces", func(s *Settings) { s.ExcludedNamespaces = nil }, nil},
		{"bad label", func(s *Settings) { s.CapacityTypeLabel = "karpenter.sh/capacity type" },
			[]string{`settings.capacityTypeLabel: Invalid value: "karpenter.sh/capacity type": must be a label key`}},
		{"empty label", func(s *Settings) { s.CapacityTypeLabel = "" }, []string{`settings.capacityTypeLabel: Invalid value: ""`}},
		{"empty spot value", func(s *Settings) { s.SpotValue = "" }, []string{`settings.spotValue: Required value`}},
		{"same values", func(s *Settings) { s.OnDemandValue = "spot" }, []string{`settings.onDemandValue: Invalid value: "spot": must differ from spotValue`}},
		{"bad effect", func(s *Settings) { s.SpotTaint.Effect = "NoRun" },
			[]string{`settings.spotTaint.effect: Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`}},
		{"effect without key", func(s *Settings) { s.SpotTaint.Key = "" }, []string{`settings.spotTaint.key: Required value`}},
		{"bad namespace and taint key together", func(s *Settings) {
			s.ExcludedNamespaces = []string{"kube-system", "Bad_NS"}
			s.SpotTaint.Key = "/spot"
		}, []string{`settings.spotTaint.key: Invalid value: "/spot"`, `settings.excludedNamespaces[1]: Invalid value: "Bad_NS"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			tt.change(&s)
			err := s.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tt.want)
			}
			msg, at := err.Error(), 0
			for _, w := range tt.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("Validate() = %v\nwant, in order: %q", err, tt.want)
				}
				at += i + len(w)
			}
		})
	}
}

func TestSettingsExcluded(t *testing.T) {
	s := DefaultSettings()
	for ns, want := range map[string]bool{"kube-system": true, DefaultNamespace: true, "shop": false, "": false} {
		if got := s.Excluded(ns); got != want {
			t.Errorf("Excluded(%q) = %v, want %v", ns, got, want)
		}
	}
}
