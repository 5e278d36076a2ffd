package mutating

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// PodDecision is what trimtab decided for one pod and why. It is written to the
// pod as JSON (config.AnnotationDecisionJSON) and in words
// (config.AnnotationDecision), and repeated in the pod's Event.
type PodDecision struct {
	// AdmissionID ties the pod to the admission that placed it; the Ledger
	// uses it to see when the informer cache has caught up.
	AdmissionID string `json:"admissionID"`
	// Workload is "Kind/name", e.g. "Deployment/web".
	Workload string `json:"workload"`
	// Mode is enforce (the pod was changed) or shadow (recorded only).
	Mode config.Mode `json:"mode"`
	// Placement is the chosen capacity type; empty if none was chosen.
	Placement capacity.Type `json:"placement,omitempty"`
	// Required says the pod must run on Placement; otherwise it prefers it.
	Required bool `json:"required,omitempty"`
	// Base says the pod fills the workload's on-demand base.
	Base bool `json:"base,omitempty"`
	// Reason says why, e.g. "on-demand base 2: 1 already placed".
	Reason string `json:"reason"`
	// Injected lists what was added to the pod spec.
	Injected []string `json:"injected,omitempty"`
	// Kept lists what the user set and trimtab left alone.
	Kept []string `json:"kept,omitempty"`

	// Requests says per container what the requests step set (or in
	// shadow mode would have set) and why; config.AnnotationResources
	// carries the same words.
	Requests string `json:"requests,omitempty"`
}

// Summary is the short human-readable form written to the pod's
// config.AnnotationDecision, e.g. "on-demand (required): on-demand base 2, 1
// placed before this pod". It stays short because `kubectl describe pod`
// cuts annotation values at 140 characters; the Event carries String.
func (d PodDecision) Summary() string {
	var b strings.Builder
	if d.Mode == config.ModeShadow && d.Placement != "" {
		b.WriteString("shadow, not applied: would be ")
	}
	switch {
	case d.Placement == "":
		b.WriteString("not placed")
	case d.Required:
		fmt.Fprintf(&b, "%s (required)", d.Placement)
	default:
		fmt.Fprintf(&b, "%s (preferred)", d.Placement)
	}
	if d.Reason != "" {
		fmt.Fprintf(&b, ": %s", d.Reason)
	}
	if len(d.Kept) > 0 {
		fmt.Fprintf(&b, "; kept %s", strings.Join(d.Kept, ", "))
	}
	return b.String()
}

// String is the full form, with the workload and everything injected, as
// the pod's Event and the manager's log show it.
func (d PodDecision) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", d.Workload, d.Summary())
	if len(d.Injected) > 0 {
		fmt.Fprintf(&b, "; injected %s", strings.Join(d.Injected, ", "))
	}
	if d.Requests != "" {
		fmt.Fprintf(&b, "; requests: %s", d.Requests)
	}
	return b.String()
}

// decisionOf reads the decision trimtab wrote on a pod; ok is false if there
// is none or it does not parse.
func decisionOf(annotations map[string]string) (d PodDecision, ok bool) {
	raw, found := annotations[config.AnnotationDecisionJSON]
	if !found {
		return PodDecision{}, false
	}
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return PodDecision{}, false
	}
	return d, true
}
