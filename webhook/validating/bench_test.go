package validating

import (
	"context"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/trimtab-dev/trimtab/config"
)

// BenchmarkHandle measures one valid Deployment CREATE through the full
// handler: decode, parse, warnings, and the HPA list from the fake client.
func BenchmarkHandle(b *testing.B) {
	h := newHandler(b, hpa("api", "Deployment", "api"))
	req := request(b, admissionv1.Create, deployment("web", ann(
		config.AnnotationClass, "critical", config.AnnotationReplicas, "2..20", config.AnnotationMode, "enforce")), nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if resp := h.Handle(ctx, req); !resp.Allowed {
			b.Fatal(resp.Result)
		}
	}
}
