package validating

import (
	"context"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trimtab-dev/trimtab/config"
)

// FuzzHandle feeds arbitrary object bytes of any of the four kinds through
// the full handler (decoder included). It must never panic, and it may deny
// only with an Invalid status whose causes are all trimtab annotations.
//
//	go test ./webhook/validating -run '^$' -fuzz FuzzHandle -fuzztime 60s
func FuzzHandle(f *testing.F) {
	f.Add(uint8(0), true, []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","annotations":{"trimtab.dev/replicas":"10..2"}}}`))
	f.Add(uint8(1), false, []byte(`{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db","annotations":{"trimtab.dev/mode":"enforce"}}}`))
	f.Add(uint8(2), true, []byte(`{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j","annotations":{"trimtab.dev/capcity":"spot"}},"spec":{"template":{"metadata":{"annotations":{"trimtab.dev/class":"batch"}}}}}`))
	f.Add(uint8(3), true, []byte(`{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"annotations":"x"}}`))
	f.Add(uint8(0), true, []byte(`not json`))
	f.Add(uint8(0), true, []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","annotations":{"trimtab.dev/metric":"rate(orders_total)","trimtab.dev/target-per-pod":"5"}}}`))
	h := newHandler(f, hpa("web", "Deployment", "web"))
	f.Fuzz(func(t *testing.T, kind uint8, create bool, raw []byte) {
		gk := Kinds[int(kind)%len(Kinds)]
		req := request(t, admissionv1.Create, deployment("web", nil), nil)
		req.Kind = metav1.GroupVersionKind{Group: gk.Group, Version: "v1", Kind: gk.Kind}
		req.Object.Raw = raw
		if !create {
			req.Operation = admissionv1.Update
			req.OldObject.Raw = []byte(`{"metadata":{"name":"web","annotations":{"` + config.AnnotationMode + `":"enforce"}}}`)
		}
		resp := h.Handle(context.Background(), req)
		if resp.Allowed {
			return
		}
		if resp.Result == nil || resp.Result.Reason != metav1.StatusReasonInvalid || resp.Result.Details == nil {
			t.Fatalf("denied for a reason other than bad policy: %+v", resp.Result)
		}
		for _, c := range resp.Result.Details.Causes {
			key := strings.TrimSuffix(strings.TrimPrefix(c.Field, "metadata.annotations["), "]")
			if !config.IsTrimtabKey(key) {
				t.Fatalf("denied on a non-trimtab field %q: %s", c.Field, resp.Result.Message)
			}
		}
	})
}
