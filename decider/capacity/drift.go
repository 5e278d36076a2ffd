package capacity

import (
	"fmt"
	"strings"
)

// Census is what the cluster shows of the pods that count toward a
// workload's base: the live pods of its current revision (a Deployment's
// newest ReplicaSet, a Job; every pod of a StatefulSet, whose base is its
// lowest ordinals whatever their revision).
type Census struct {
	// Pods is how many there are, placed by trimtab or not, as the
	// workload's controller counts them in its status.
	Pods int
	// Placed counts those trimtab placed, by the placement it stamped.
	Placed Counts
}

// Drift is how far a workload's pods are from its split: the base the
// webhook stamps at admission can be lost afterwards (pods admitted while
// trimtab was down, a pod replaced before trimtab's cache saw the old one
// go, two webhook replicas racing). The webhook cannot mend it, since it
// only sees pods being created; the Decision reports it, and moving pods to
// mend it is the placer's job.
type Drift struct {
	// Pods is the census' pod count; OnDemand and Spot how many of them
	// trimtab placed on each, Unplaced how many it did not place.
	Pods, OnDemand, Spot, Unplaced int
	// WantOnDemand is how many of Pods the split puts on on-demand.
	WantOnDemand int
	// Short is how many on-demand placements are missing, Over how many
	// pods are placed on on-demand beyond what the split wants.
	Short, Over int
}

// Drift compares the census with the split. Pods without a placement
// count toward neither type: trimtab does not know where they run, only
// that it did not choose.
func (s Split) Drift(c Census) Drift {
	placed := c.Placed.OnDemand + c.Placed.Spot
	d := Drift{Pods: max(c.Pods, placed), OnDemand: c.Placed.OnDemand, Spot: c.Placed.Spot}
	d.Unplaced = d.Pods - placed
	want, _ := s.Of(int32(d.Pods))
	d.WantOnDemand = int(want)
	d.Short = max(0, d.WantOnDemand-d.OnDemand)
	d.Over = max(0, d.OnDemand-d.WantOnDemand)
	return d
}

// None says the pods are where the split wants them, all placed by
// trimtab.
func (d Drift) None() bool { return d.Short == 0 && d.Over == 0 && d.Unplaced == 0 }

// String says what is off in words, e.g. "on-demand 1 short of 3; 17 pods
// without a placement", or "none" when nothing is.
func (d Drift) String() string {
	var parts []string
	if d.Short > 0 {
		parts = append(parts, fmt.Sprintf("on-demand %d short of %d", d.Short, d.WantOnDemand))
	}
	if d.Over > 0 {
		parts = append(parts, fmt.Sprintf("on-demand %d over %d", d.Over, d.WantOnDemand))
	}
	if d.Unplaced > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d pods without a placement", d.Unplaced, d.Pods))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}
