package mutating

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Workload is the object whose annotations hold a pod's trimtab policy.
type Workload struct {
	Key         WorkloadKey
	Annotations map[string]string
	// Revision is the UID of the pod's controller (a Deployment's
	// ReplicaSet, a Job, a StatefulSet): the pods that share a base.
	Revision types.UID
	// Ordinal is a StatefulSet pod's ordinal counted from the
	// StatefulSet's first (spec.ordinals.start); nil for other pods, and
	// for a pod whose name does not carry one.
	Ordinal *int
}

// String is "Kind/name", the form decisions and metrics use.
func (w Workload) String() string { return w.Key.Kind + "/" + w.Key.Name }

// Resolver finds a pod's workload by following controller owner references:
// ReplicaSet → Deployment, StatefulSet, Job → CronJob. It reads the informer
// cache first and the apiserver only when the cache has not seen an owner yet
// (a Deployment's new ReplicaSet creates pods within milliseconds of existing).
type Resolver struct {
	Cache client.Reader
	Live  client.Reader
}

// Resolve returns the pod's workload; ok is false for a pod that no supported
// workload controls (a bare pod, a DaemonSet's, a bare ReplicaSet's).
func (r Resolver) Resolve(ctx context.Context, pod *corev1.Pod) (w Workload, ok bool, err error) {
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return Workload{}, false, nil
	}
	ns := pod.Namespace
	// The chain holds only if each owner is the object the reference names,
	// not a later one that took its name.
	same := func(ref *metav1.OwnerReference, obj client.Object) bool {
		return ref.UID == "" || ref.UID == obj.GetUID()
	}
	switch {
	case ref.Kind == "ReplicaSet" && isGroup(ref, appsv1.GroupName):
		rs := &appsv1.ReplicaSet{}
		if err := r.get(ctx, ns, ref.Name, rs); err != nil {
			return Workload{}, false, err
		}
		owner := metav1.GetControllerOf(rs)
		if !same(ref, rs) || owner == nil || owner.Kind != "Deployment" || !isGroup(owner, appsv1.GroupName) {
			return Workload{}, false, nil
		}
		d := &appsv1.Deployment{}
		if err := r.get(ctx, ns, owner.Name, d); err != nil {
			return Workload{}, false, err
		}
		if !same(owner, d) {
			return Workload{}, false, nil
		}
		return Workload{Key: WorkloadKey{Namespace: ns, Kind: "Deployment", Name: d.Name}, Annotations: d.Annotations, Revision: rs.UID}, true, nil
	case ref.Kind == "StatefulSet" && isGroup(ref, appsv1.GroupName):
		s := &appsv1.StatefulSet{}
		if err := r.get(ctx, ns, ref.Name, s); err != nil {
			return Workload{}, false, err
		}
		if !same(ref, s) {
			return Workload{}, false, nil
		}
		return Workload{Key: WorkloadKey{Namespace: ns, Kind: "StatefulSet", Name: s.Name}, Annotations: s.Annotations,
			Revision: s.UID, Ordinal: ordinalOf(pod.Name, s)}, true, nil
	case ref.Kind == "Job" && isGroup(ref, batchv1.GroupName):
		j := &batchv1.Job{}
		if err := r.get(ctx, ns, ref.Name, j); err != nil {
			return Workload{}, false, err
		}
		if !same(ref, j) {
			return Workload{}, false, nil
		}
		if owner := metav1.GetControllerOf(j); owner != nil && owner.Kind == "CronJob" && isGroup(owner, batchv1.GroupName) {
			cj := &batchv1.CronJob{}
			if err := r.get(ctx, ns, owner.Name, cj); err != nil {
				return Workload{}, false, err
			}
			if !same(owner, cj) {
				return Workload{}, false, nil
			}
			return Workload{Key: WorkloadKey{Namespace: ns, Kind: "CronJob", Name: cj.Name}, Annotations: cj.Annotations, Revision: j.UID}, true, nil
		}
		return Workload{Key: WorkloadKey{Namespace: ns, Kind: "Job", Name: j.Name}, Annotations: j.Annotations, Revision: j.UID}, true, nil
	}
	return Workload{}, false, nil
}

// ordinalOf reads a StatefulSet pod's ordinal from its name, "<set>-<n>",
// counted from the set's first ordinal; nil when the name carries none.
func ordinalOf(podName string, s *appsv1.StatefulSet) *int {
	suffix, ok := strings.CutPrefix(podName, s.Name+"-")
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(suffix)
	if err != nil || n < 0 || strconv.Itoa(n) != suffix {
		return nil
	}
	if s.Spec.Ordinals != nil {
		n -= int(s.Spec.Ordinals.Start)
	}
	if n < 0 {
		return nil
	}
	return &n
}

func (r Resolver) get(ctx context.Context, namespace, name string, obj client.Object) error {
	key := types.NamespacedName{Namespace: namespace, Name: name}
	err := r.Cache.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) && r.Live != nil {
		err = r.Live.Get(ctx, key, obj)
	}
	if err != nil {
		return fmt.Errorf("getting %T %s: %w", obj, key, err)
	}
	return nil
}

func isGroup(ref *metav1.OwnerReference, group string) bool {
	gv, err := schemaGroupVersion(ref.APIVersion)
	return err == nil && gv == group
}

func schemaGroupVersion(apiVersion string) (string, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	return gv.Group, err
}
