package mutating

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// admittedPod is the part of an admitted pod the webhook reads or writes:
// metadata (owners, labels, annotations) and the three scheduling fields the
// steps touch. Decoding only these skips the containers, volumes and status
// that dominate a pod's size; encoding/json still validates the whole
// document while skipping the rest.
type admittedPod struct {
	Metadata *metav1.ObjectMeta `json:"metadata"`
	Spec     *struct {
		NodeSelector map[string]string   `json:"nodeSelector"`
		Affinity     *corev1.Affinity    `json:"affinity"`
		Tolerations  []corev1.Toleration `json:"tolerations"`
		// Containers are kept raw for the requests step, which decodes
		// them only for workloads with trimtab.dev/requests: auto.
		Containers json.RawMessage `json:"containers"`
	} `json:"spec"`
}

// decodeAdmitted decodes raw into a Pod holding only the fields the steps
// use, reports whether raw has metadata and spec members (patchOps must add
// them whole if not; the apiserver always sends both), and returns the
// containers, raw.
func decodeAdmitted(raw []byte) (pod *corev1.Pod, hasMetadata, hasSpec bool, containers json.RawMessage, err error) {
	var a admittedPod
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, false, false, nil, fmt.Errorf("decoding the admitted pod: %w", err)
	}
	pod = &corev1.Pod{}
	if a.Metadata != nil {
		pod.ObjectMeta = *a.Metadata
	}
	if a.Spec != nil {
		pod.Spec.NodeSelector = a.Spec.NodeSelector
		pod.Spec.Affinity = a.Spec.Affinity
		pod.Spec.Tolerations = a.Spec.Tolerations
		containers = a.Spec.Containers
	}
	return pod, a.Metadata != nil, a.Spec != nil, containers, nil
}

// touched is a copy of the fields the steps may change, taken before they
// run, so patchOps can tell what changed.
type touched struct {
	labels, annotations map[string]string
	affinity            *corev1.Affinity
	tolerations         []corev1.Toleration
}

func snapshot(pod *corev1.Pod) touched {
	t := touched{
		labels:      copyMap(pod.Labels),
		annotations: copyMap(pod.Annotations),
		tolerations: append([]corev1.Toleration(nil), pod.Spec.Tolerations...),
	}
	if pod.Spec.Affinity != nil {
		t.affinity = pod.Spec.Affinity.DeepCopy()
	}
	return t
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
