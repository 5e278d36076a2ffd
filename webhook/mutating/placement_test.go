package mutating

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// A critical workload pinned to spot runs on spot alone: the owner's pin is
// honoured, as decider/capacity decides and docs/policy.md says (the
// validating webhook warns instead). Until this rule moved into
// decider/capacity, the decider kept one pod on on-demand here while the
// webhook put all on spot.
func TestHandleCriticalPinnedToSpot(t *testing.T) {
	h := newTestHandler(map[string]string{config.AnnotationClass: "critical", config.AnnotationCapacity: "spot", config.AnnotationMode: "enforce"})
	for i := range 3 {
		req := podRequest(t, fmt.Sprint("uid-", i), basePod())
		pod := applied(t, req, h.Handle(context.Background(), req))
		if got := pod.Annotations[config.AnnotationDecision]; got != "spot (required): policy capacity spot" {
			t.Errorf("pod %d: decision %q, want spot (required) from the policy", i, got)
		}
	}
}

// offSpot is a SplitSource whose market is off spot, as the Decision will
// say during a forecast spike.
type offSpot struct{}

func (offSpot) Split(_ context.Context, _ Workload, in config.Inputs) (capacity.Split, error) {
	return capacity.Decide(in.Capacity, capacity.Outlook{OffSpot: true, Reason: "spike forecast"})
}

// The handler places by the split its SplitSource gives, not by a rule of
// its own: with the market off spot, pods past the base go to on-demand.
func TestHandlePlacesBySplitSource(t *testing.T) {
	h := newTestHandler(map[string]string{config.AnnotationClass: "batch", config.AnnotationMode: "enforce"})
	h.Splits = offSpot{}
	req := podRequest(t, "uid", basePod())
	pod := applied(t, req, h.Handle(context.Background(), req))
	if pod.Labels[LabelPlacement] != "on-demand" || !strings.Contains(pod.Annotations[config.AnnotationDecision], "off spot: spike forecast") {
		t.Errorf("placement %q, decision %q: want on-demand, off spot", pod.Labels[LabelPlacement], pod.Annotations[config.AnnotationDecision])
	}
}
