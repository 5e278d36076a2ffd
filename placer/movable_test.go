package placer

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestMovable(t *testing.T) {
	owned := func(kind string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "apps/v1", Kind: kind, Name: "w", Controller: ptr.To(true)},
			}},
			Spec: corev1.PodSpec{NodeName: "n1"},
		}
	}
	orphan := owned("ReplicaSet")
	orphan.OwnerReferences = nil
	notController := owned("ReplicaSet")
	notController.OwnerReferences[0].Controller = nil
	pending := owned("ReplicaSet")
	pending.Spec.NodeName = ""
	done := owned("Job")
	done.Status.Phase = corev1.PodSucceeded
	static := owned("Node")
	static.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string // "" = movable
	}{
		{"a ReplicaSet's pod", owned("ReplicaSet"), ""},
		{"a Job's pod", owned("Job"), ""},
		{"no pod", nil, "no pod given"},
		{"no controller", orphan, "pod ns/p has no controller: evicting it would delete it and nothing would create a replacement"},
		{"an owner that isn't the controller", notController, "pod ns/p has no controller: evicting it would delete it and nothing would create a replacement"},
		{"a DaemonSet's pod", owned("DaemonSet"), "pod ns/p belongs to DaemonSet w: its replacement returns to node n1"},
		{"not bound", pending, "pod ns/p is not bound to a node: there is nothing to move"},
		{"finished", done, "pod ns/p has finished (Succeeded): there is nothing to move"},
		{"a static pod", static, "pod ns/p is a static pod: the kubelet of node n1 runs it, eviction can't move it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Movable(tt.pod)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Movable: %q, want %q", got, tt.want)
			}
		})
	}
}
