package mutating

import (
	"encoding/json"
	"fmt"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"

	"github.com/trimtab-dev/trimtab/config"
)

// annotationLimit is the apiserver's limit on an object's annotations: the
// sum of every key's and value's length must not exceed it
// (k8s.io/apimachinery/pkg/api/validation.ValidateAnnotationsSize). A pod
// over it is refused ("metadata.annotations: Too long"), so its
// ReplicaSet creates no pods at all.
const annotationLimit = apivalidation.TotalAnnotationSizeLimitB

// jsonDroppedNote ends the short form when the JSON form did not fit.
const jsonDroppedNote = "; " + config.AnnotationDecisionJSON + " left out: the pod's annotations are at the 256 KiB limit"

// annotate writes d onto annotations, both forms when they fit under
// limit. It never makes the pod invalid: when both do not fit, the JSON
// form is left out and the short form says so; when even that does not
// fit, neither is written. written lists the annotations it wrote.
//
// A pod without the JSON form is still placed and labelled, but the
// manager cannot match it to its admission: its Ledger reservation lasts
// the TTL, and it gets no Event.
func (d PodDecision) annotate(annotations map[string]string, limit int) (written []string, err error) {
	j, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encoding decision: %w", err)
	}
	// Any decision already on the pod (copied from elsewhere) is replaced.
	delete(annotations, config.AnnotationDecision)
	delete(annotations, config.AnnotationDecisionJSON)
	room := limit - annotationsSize(annotations)
	short, long := d.Summary(), string(j)
	need := func(k, v string) int { return len(k) + len(v) }
	switch {
	case need(config.AnnotationDecision, short)+need(config.AnnotationDecisionJSON, long) <= room:
		annotations[config.AnnotationDecision] = short
		annotations[config.AnnotationDecisionJSON] = long
		return []string{config.AnnotationDecision, config.AnnotationDecisionJSON}, nil
	case need(config.AnnotationDecision, short+jsonDroppedNote) <= room:
		annotations[config.AnnotationDecision] = short + jsonDroppedNote
		return []string{config.AnnotationDecision}, nil
	}
	return nil, nil
}

// annotationsSize is the size the apiserver counts against annotationLimit.
func annotationsSize(annotations map[string]string) int {
	n := 0
	for k, v := range annotations {
		n += len(k) + len(v)
	}
	return n
}
