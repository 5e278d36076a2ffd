package config

import "testing"

// BenchmarkParsePolicy parses a typical fully annotated workload, foreign
// keys included, as the webhook and decider do for every object they see.
func BenchmarkParsePolicy(b *testing.B) {
	in := map[string]string{
		AnnotationClass: "critical", AnnotationCapacity: "auto", AnnotationOnDemandBase: "2",
		AnnotationReplicas: "2..50", AnnotationMode: "enforce", AnnotationRequests: "auto",
		AnnotationMetric: `sum(rate(orders_total{app="shop"}[1m]))`, AnnotationTargetPerPod: "50",
		"deployment.kubernetes.io/revision": "3", "kubectl.kubernetes.io/last-applied-configuration": "{}",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := ParsePolicy(in); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
