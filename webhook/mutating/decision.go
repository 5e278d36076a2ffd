package mutating

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trimtab-dev/trimtab/config"
)

// Placement is the capacity type trimtab chose for a pod.
type Placement string

// Placements.
const (
	PlacementSpot     Placement = "spot"
	PlacementOnDemand Placement = "on-demand"
)

// Decision is what trimtab decided for one pod and why. It is written to the
// pod as JSON (config.AnnotationDecisionJSON) and in words
// (config.AnnotationDecision), and repeated in the pod's Event.
type Decision struct {
	// AdmissionID ties the pod to the admission that placed it; the Ledger
	// uses it to see when the informer cache has caught up.
	AdmissionID string `json:"admissionID"`
	// Workload is "Kind/name", e.g. "Deployment/web".
	Workload string `json:"workload"`
	// Mode is enforce (the pod was changed) or shadow (recorded only).
	Mode config.Mode `json:"mode"`
	// Placement is the chosen capacity type; empty if none was chosen.
	Placement Placement `json:"placement,omitempty"`
	// Reason says why, e.g. "on-demand base 2: 1 already placed".
	Reason string `json:"reason"`
	// Injected lists what was added to the pod spec.
	Injected []string `json:"injected,omitempty"`
	// Kept lists what the user set and trimtab left alone.
	Kept []string `json:"kept,omitempty"`
}

// WorkloadKey identifies a workload for counting: "namespace/Kind/name".
func (d Decision) workloadKey(namespace string) string {
	return namespace + "/" + d.Workload
}

// String is the human-readable form, as `kubectl describe pod` shows it.
func (d Decision) String() string {
	var b strings.Builder
	switch {
	case d.Placement == "":
		fmt.Fprintf(&b, "%s: no placement", d.Workload)
	case d.Mode == config.ModeShadow:
		fmt.Fprintf(&b, "%s: would place on %s (shadow mode, pod not changed)", d.Workload, d.Placement)
	default:
		fmt.Fprintf(&b, "%s: %s", d.Workload, d.Placement)
	}
	if d.Reason != "" {
		fmt.Fprintf(&b, ", %s", d.Reason)
	}
	if len(d.Injected) > 0 {
		fmt.Fprintf(&b, "; injected %s", strings.Join(d.Injected, ", "))
	}
	if len(d.Kept) > 0 {
		fmt.Fprintf(&b, "; kept %s", strings.Join(d.Kept, ", "))
	}
	return b.String()
}

// annotate writes both forms onto the pod's annotations.
func (d Decision) annotate(annotations map[string]string) error {
	j, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding decision: %w", err)
	}
	annotations[config.AnnotationDecision] = d.String()
	annotations[config.AnnotationDecisionJSON] = string(j)
	return nil
}

// decisionOf reads the decision trimtab wrote on a pod; ok is false if there
// is none or it does not parse.
func decisionOf(annotations map[string]string) (d Decision, ok bool) {
	raw, found := annotations[config.AnnotationDecisionJSON]
	if !found {
		return Decision{}, false
	}
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return Decision{}, false
	}
	return d, true
}
