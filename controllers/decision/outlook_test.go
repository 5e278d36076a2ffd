package decision

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// offSpot is the placer's outlook with one workload off spot.
type offSpot map[workloadKey]capacity.Outlook

func (o offSpot) Outlook(ns, kind, name string) capacity.Outlook {
	return o[workloadKey{Namespace: ns, Kind: kind, Name: name}]
}

// TestCapacityFollowsThePlacersOutlook: a batch workload with capacity
// auto takes the placer's outlook (on-demand, with the placer's reason);
// a critical or standard one, a batch one pinning spot, and any workload
// without an outlook keep their policy's split.
func TestCapacityFollowsThePlacersOutlook(t *testing.T) {
	why := "c3.xlarge/us-east-1a/Linux/UNIX off spot since 09:20 UTC: price above threshold (spot 0.2500, threshold 0.2100, P(cross)=1.00); back to spot no earlier than 15:20 UTC if calm"
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		outlook     bool
		want        capacity.Type
		required    bool
	}{
		{"batch auto, spike", map[string]string{config.AnnotationClass: "batch"}, true, capacity.OnDemand, true},
		{"batch auto, no outlook", map[string]string{config.AnnotationClass: "batch"}, false, capacity.Spot, false},
		{"batch pinned spot", map[string]string{config.AnnotationClass: "batch", config.AnnotationCapacity: "spot"}, true, capacity.Spot, true},
		{"standard", map[string]string{config.AnnotationClass: "standard"}, true, capacity.Spot, false},
		{"critical", map[string]string{config.AnnotationClass: "critical"}, true, capacity.Spot, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol, errs := config.ParsePolicy(tc.annotations)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			in, err := pol.Inputs()
			if err != nil {
				t.Fatal(err)
			}
			w := &workload{key: workloadKey{Namespace: "shop", Kind: "Deployment", Name: "etl"}, policy: pol, inputs: in}
			o := offSpot{}
			if tc.outlook {
				o[w.key] = capacity.Outlook{OffSpot: true, Reason: why}
			}
			c := &Controller{Outlooks: o}
			split, err := c.capacitySplit(w)
			if err != nil {
				t.Fatal(err)
			}
			if split.Rest != tc.want || split.RestRequired != tc.required {
				t.Errorf("split %v, want the rest on %s (required %v)", split, tc.want, tc.required)
			}
			if tc.want == capacity.OnDemand && !strings.Contains(split.Reason, why) {
				t.Errorf("reason %q does not carry the placer's %q", split.Reason, why)
			}
			if split.OnDemandBase != in.Capacity.OnDemandBase {
				t.Errorf("base %d, the policy's is %d", split.OnDemandBase, in.Capacity.OnDemandBase)
			}
		})
	}
	if split, err := (&Controller{}).capacitySplit(&workload{inputs: config.Inputs{Evictable: true}, policy: config.Policy{Class: config.ClassBatch}}); err != nil || split.Rest != capacity.Spot {
		t.Errorf("without the placer: %v %v", split, err)
	}
}

// published is offSpot that says whether the placer has assessed the
// workloads yet.
type published struct {
	offSpot
	ready bool
}

func (p published) Known(_, _, _ string) bool { return p.ready }

// TestCapacityHoldsUntilThePlacerPublishes: after a restart, until the
// placer's first round publishes the outlooks, a batch workload's Decision
// keeps its last capacity (on-demand during a spike) instead of falling
// back to spot; a standard one is decided as always; once published, the
// outlook decides.
func TestCapacityHoldsUntilThePlacerPublishes(t *testing.T) {
	old := v1alpha1.DecisionStatus{Capacity: &v1alpha1.CapacityStatus{Rest: "on-demand", RestRequired: true, Reason: "off spot: c3.xlarge/us-east-1a"}}
	decide := func(class string, o Outlooks) *v1alpha1.CapacityStatus {
		pol, errs := config.ParsePolicy(map[string]string{config.AnnotationClass: class})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		in, err := pol.Inputs()
		if err != nil {
			t.Fatal(err)
		}
		w := &workload{key: workloadKey{Namespace: "shop", Kind: "Deployment", Name: "etl"}, policy: pol, inputs: in}
		c := &Controller{Outlooks: o}
		next := c.decide(w, &tracked{}, nil, &signalsOf{loadErr: errors.New("no signals in this test")}, time.Now(), &old)
		return next.Capacity
	}
	if got := decide("batch", published{offSpot{}, false}); got == nil || got.Rest != "on-demand" || got.Reason != old.Capacity.Reason {
		t.Errorf("batch before the placer published: capacity %+v, want the last one held", got)
	}
	if got := decide("standard", published{offSpot{}, false}); got == nil || got.Rest != "spot" {
		t.Errorf("standard before the placer published: capacity %+v, want its policy's (spot)", got)
	}
	if got := decide("batch", published{offSpot{}, true}); got == nil || got.Rest != "spot" {
		t.Errorf("batch once published with no outlook: capacity %+v, want spot", got)
	}
}
