package mutating

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/trimtab-dev/trimtab/config"
)

// FuzzHandle feeds arbitrary bytes as the admitted object and arbitrary
// policy values: the handler must never panic, never deny, and any patch it
// returns must apply to the request's object.
func FuzzHandle(f *testing.F) {
	seed, _ := json.Marshal(basePod())
	f.Add(seed, "auto", "2", "enforce")
	f.Add([]byte(`{"metadata":{"annotations":{"a/b":"c"},"labels":null},"spec":{"affinity":{"nodeAffinity":{}}}}`), "spot", "", "enforce")
	f.Add([]byte(`{"spec":{"nodeSelector":{"karpenter.sh/capacity-type":"spot"}}}`), "on-demand", "", "shadow")
	f.Add([]byte(`null`), "", "", "")
	f.Add([]byte(`{"spec":{"tolerations":[{"operator":"Exists"}]}}`), "auto", "0", "enforce")
	f.Fuzz(func(t *testing.T, raw []byte, capacity, base, mode string) {
		h := newTestHandler(map[string]string{
			config.AnnotationCapacity: capacity, config.AnnotationOnDemandBase: base, config.AnnotationMode: mode,
		})
		req := podRequest(t, "uid", basePod())
		req.Object.Raw = raw
		resp := h.Handle(context.Background(), req)
		if !resp.Allowed {
			t.Fatalf("denied: %+v", resp.Result)
		}
		if len(resp.Patches) > 0 {
			applied(t, req, resp) // fails the test if the patch does not apply
		}
	})
}
