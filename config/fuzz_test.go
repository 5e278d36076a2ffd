package config

import (
	"strings"
	"testing"
)

// FuzzParsePolicy feeds ParsePolicy arbitrary values for arbitrary keys. It
// must never panic, every error must name a trimtab-looking key and quote at
// most MaxQuotedValue bytes of any value, a number it accepts must be
// written in its one plain form (no sign, base prefix or underscore), and a
// policy it accepts must survive Annotations → ParsePolicy unchanged and
// valid.
//
//	go test ./config -run '^$' -fuzz FuzzParsePolicy -fuzztime 60s
func FuzzParsePolicy(f *testing.F) {
	seeds := [][6]string{
		{AnnotationClass, "critical", AnnotationCapacity, "auto", AnnotationOnDemandBase, "2"},
		{AnnotationReplicas, "2..10", AnnotationMode, "enforce", AnnotationRequests, "auto"},
		{AnnotationReplicas, "10..2", AnnotationClass, "critcal", "trimtab.dev/capcity", "spot"},
		{AnnotationMetric, `sum(rate(orders_total{app="shop"}[1m]))`, AnnotationTargetPerPod, "50", AnnotationClass, "batch"},
		{AnnotationDownstream, `histogram_quantile(0.95, rate(db_bucket[5m]))`, AnnotationDownstreamMax, "0.25", AnnotationCapacity, "spot"},
		{AnnotationReplicas, "..50", AnnotationOnDemandBase, "-1", AnnotationTargetPerPod, "1e308"},
		{AnnotationReplicas, "1..", AnnotationCapacity, "on-demand", AnnotationOnDemandBase, "0"},
		{AnnotationMetric, `up{a="(\"}`, AnnotationTargetPerPod, "0x1p-2", "Trimtab.dev/mode", "shadow"},
		{AnnotationDecision, "capacity: spot", AnnotationDecisionJSON, "{}", NamespaceLabel, "true"},
		{AnnotationReplicas, "+3..007", AnnotationTargetPerPod, "NaN", AnnotationDownstreamMax, "Inf"},
		{AnnotationOnDemandBase, "+3", AnnotationReplicas, "2..+5", AnnotationTargetPerPod, "1_000"},
		{AnnotationClass, strings.Repeat("critical", 20), AnnotationMetric, "sum(" + strings.Repeat("x", 3000), AnnotationTargetPerPod, "2.5e3"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5])
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		in := map[string]string{k1: v1, k2: v2, k3: v3}
		p, errs := ParsePolicy(in)
		for _, e := range errs {
			key := strings.TrimSuffix(strings.TrimPrefix(e.Field, "metadata.annotations["), "]")
			if !IsTrimtabKey(key) {
				t.Fatalf("error on non-trimtab key %q: %v", key, e)
			}
			if e.Error() == "" {
				t.Fatalf("empty error message for %v", in)
			}
			if v, ok := e.BadValue.(string); ok && len(v) > MaxQuotedValue+len("…") {
				t.Fatalf("error quotes %d bytes of a value, more than %d: %v", len(v), MaxQuotedValue, e)
			}
		}
		if len(errs) > 0 {
			return
		}
		for key, digits := range map[string]string{AnnotationOnDemandBase: "0123456789", AnnotationReplicas: "0123456789.",
			AnnotationTargetPerPod: "0123456789.eE+-", AnnotationDownstreamMax: "0123456789.eE+-"} {
			if v, ok := in[key]; ok && (strings.Trim(v, digits) != "" || strings.HasPrefix(v, "+") || strings.HasPrefix(v, "-")) {
				t.Fatalf("%s: %q accepted; numbers are plain digits", key, v)
			}
		}
		if verrs := p.Validate(); len(verrs) > 0 {
			t.Fatalf("ParsePolicy(%q) accepted %+v but Validate says %v", in, p, verrs)
		}
		canon := p.Annotations()
		again, errs := ParsePolicy(canon)
		if len(errs) > 0 {
			t.Fatalf("canonical form %q of %+v (from %q) rejected: %v", canon, p, in, errs)
		}
		if again != p {
			t.Fatalf("round trip changed the policy:\n in  %q\n p   %+v\n via %q\n got %+v", in, p, canon, again)
		}
		if again2 := again.Annotations(); len(again2) != len(canon) {
			t.Fatalf("canonical form not stable: %q then %q", canon, again2)
		}
	})
}
