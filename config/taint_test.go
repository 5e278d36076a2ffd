package config

import (
	"strings"
	"testing"
)

func TestParseTaint(t *testing.T) {
	for _, in := range []string{"trimtab.dev/spot=true:NoSchedule", "spot:PreferNoSchedule", "karpenter.sh/capacity=spot:NoExecute", ""} {
		got, err := ParseTaint(in)
		if err != nil {
			t.Errorf("ParseTaint(%q): %v", in, err)
			continue
		}
		if FormatTaint(got) != in {
			t.Errorf("FormatTaint(ParseTaint(%q)) = %q", in, FormatTaint(got))
		}
	}
	for _, bad := range []string{"novalue", "k=v:Sometimes", ":NoSchedule"} {
		if _, err := ParseTaint(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseTaint(%q) = %v, want an error quoting the input", bad, err)
		}
	}
}
