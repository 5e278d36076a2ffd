package mutating

import (
	"context"
	"strings"
	"testing"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"

	"github.com/trimtab-dev/trimtab/config"
)

// The patch never pushes a pod over the apiserver's 256 KiB annotation
// limit (the observed bug: a template just under it got 0 pods). At the
// exact boundary both forms are written; one byte less room drops the JSON
// with a note; less than the short form with its note needs writes none.
// Every result passes the apiserver's own check.
func TestAnnotateStaysUnderTheLimit(t *testing.T) {
	h := newTestHandler(map[string]string{config.AnnotationCapacity: "auto", config.AnnotationOnDemandBase: "1", config.AnnotationMode: "enforce"})
	// The decision for admission "u" of a fresh revision: what it writes
	// with room to spare.
	free := applied(t, podRequest(t, "u", basePod()), h.Handle(context.Background(), podRequest(t, "u", basePod())))
	short, long := free.Annotations[config.AnnotationDecision], free.Annotations[config.AnnotationDecisionJSON]
	if short == "" || long == "" {
		t.Fatalf("with room to spare: %v, want both forms", free.Annotations)
	}
	// The base pod's deletion cost goes first: it keeps the base on a
	// scale-in, the decision only explains.
	cost := len(AnnotationPodDeletionCost) + len(baseCost)
	if free.Annotations[AnnotationPodDeletionCost] != baseCost {
		t.Fatalf("with room to spare: %v, want the base pod's deletion cost", free.Annotations)
	}
	both := cost + len(config.AnnotationDecision) + len(short) + len(config.AnnotationDecisionJSON) + len(long)
	shortNoted := cost + len(config.AnnotationDecision) + len(short) + len(jsonDroppedNote)

	const fillerKey = "example.com/filler"
	for _, tc := range []struct {
		name      string
		room      int // bytes left under the limit before trimtab writes
		wantShort string
		wantJSON  bool
		wantCost  bool
	}{
		{"both fit exactly", both, short, true, true},
		{"one byte short of both", both - 1, short + jsonDroppedNote, false, true},
		{"short form with note fits exactly", shortNoted, short + jsonDroppedNote, false, true},
		{"one byte short of the short form", shortNoted - 1, "", false, true},
		{"deletion cost fits exactly", cost, "", false, true},
		{"one byte short of the deletion cost", cost - 1, "", false, false},
		{"already at the limit", 0, "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh handler gives admission "u" the same decision.
			h := newTestHandler(map[string]string{config.AnnotationCapacity: "auto", config.AnnotationOnDemandBase: "1", config.AnnotationMode: "enforce"})
			pod := basePod()
			pod.Annotations = map[string]string{
				fillerKey: strings.Repeat("x", annotationLimit-tc.room-len(fillerKey)),
			}
			if err := apivalidation.ValidateAnnotationsSize(pod.Annotations); err != nil {
				t.Fatalf("the template itself: %v", err)
			}
			req := podRequest(t, "u", pod)
			got := applied(t, req, h.Handle(context.Background(), req))
			if err := apivalidation.ValidateAnnotationsSize(got.Annotations); err != nil {
				t.Fatalf("the patched pod is invalid: %v", err)
			}
			if s := got.Annotations[config.AnnotationDecision]; s != tc.wantShort {
				t.Errorf("short form %q, want %q", s, tc.wantShort)
			}
			if _, ok := got.Annotations[config.AnnotationDecisionJSON]; ok != tc.wantJSON {
				t.Errorf("JSON form written: %v, want %v", ok, tc.wantJSON)
			}
			if _, ok := got.Annotations[AnnotationPodDeletionCost]; ok != tc.wantCost {
				t.Errorf("deletion cost written: %v, want %v", ok, tc.wantCost)
			}
			if got.Labels[LabelPlacement] != free.Labels[LabelPlacement] {
				t.Errorf("placement label %q, want %q: trimming must not change the placement", got.Labels[LabelPlacement], free.Labels[LabelPlacement])
			}
		})
	}
}

// A decision copied onto the pod (e.g. from `kubectl get pod -o yaml`) is
// replaced, and removed by the patch when trimtab's own does not fit: it
// neither counts against the room nor survives as a stale decision.
func TestAnnotateReplacesACopiedDecision(t *testing.T) {
	h := newTestHandler(map[string]string{config.AnnotationCapacity: "auto", config.AnnotationMode: "enforce"})
	pod := basePod()
	pod.Annotations = map[string]string{
		config.AnnotationDecision:     "on-demand (required): copied",
		config.AnnotationDecisionJSON: `{"admissionID":"someone-else","placement":"on-demand"}`,
	}
	pod.Annotations["example.com/filler"] = strings.Repeat("x", annotationLimit-annotationsSize(pod.Annotations)-len("example.com/filler"))
	req := podRequest(t, "u", pod)
	got := applied(t, req, h.Handle(context.Background(), req))
	if err := apivalidation.ValidateAnnotationsSize(got.Annotations); err != nil {
		t.Fatalf("the patched pod is invalid: %v", err)
	}
	if d, ok := got.Annotations[config.AnnotationDecisionJSON]; ok && strings.Contains(d, "someone-else") {
		t.Errorf("copied JSON kept: %s", d)
	}
	if s := got.Annotations[config.AnnotationDecision]; strings.Contains(s, "copied") {
		t.Errorf("copied short form kept: %q", s)
	}
}
