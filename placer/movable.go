package placer

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Movable says whether evicting pod would move it — its controller creates
// a replacement that the scheduler places anew — and if not, why not. The
// placer plans moves only for pods it says yes to; fit simulates any pod.
func Movable(pod *corev1.Pod) error {
	switch {
	case pod == nil:
		return fmt.Errorf("no pod given")
	case pod.Spec.NodeName == "":
		return fmt.Errorf("pod %s/%s is not bound to a node: there is nothing to move", pod.Namespace, pod.Name)
	case pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed:
		return fmt.Errorf("pod %s/%s has finished (%s): there is nothing to move", pod.Namespace, pod.Name, pod.Status.Phase)
	case pod.Annotations[corev1.MirrorPodAnnotationKey] != "":
		return fmt.Errorf("pod %s/%s is a static pod: the kubelet of node %s runs it, eviction can't move it", pod.Namespace, pod.Name, pod.Spec.NodeName)
	}
	owner := metav1.GetControllerOfNoCopy(pod)
	switch {
	case owner == nil:
		return fmt.Errorf("pod %s/%s has no controller: evicting it would delete it and nothing would create a replacement", pod.Namespace, pod.Name)
	case owner.Kind == "DaemonSet":
		return fmt.Errorf("pod %s/%s belongs to DaemonSet %s: its replacement returns to node %s", pod.Namespace, pod.Name, owner.Name, pod.Spec.NodeName)
	}
	return nil
}
