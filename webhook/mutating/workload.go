package mutating

import (
	"context"
	"fmt"

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
	switch {
	case ref.Kind == "ReplicaSet" && isGroup(ref, appsv1.GroupName):
		rs := &appsv1.ReplicaSet{}
		if err := r.get(ctx, ns, ref.Name, rs); err != nil {
			return Workload{}, false, err
		}
		owner := metav1.GetControllerOf(rs)
		if owner == nil || owner.Kind != "Deployment" || !isGroup(owner, appsv1.GroupName) {
			return Workload{}, false, nil
		}
		d := &appsv1.Deployment{}
		if err := r.get(ctx, ns, owner.Name, d); err != nil {
			return Workload{}, false, err
		}
		return Workload{Key: WorkloadKey{Namespace: ns, Kind: "Deployment", Name: d.Name}, Annotations: d.Annotations}, true, nil
	case ref.Kind == "StatefulSet" && isGroup(ref, appsv1.GroupName):
		s := &appsv1.StatefulSet{}
		if err := r.get(ctx, ns, ref.Name, s); err != nil {
			return Workload{}, false, err
		}
		return Workload{Key: WorkloadKey{Namespace: ns, Kind: "StatefulSet", Name: s.Name}, Annotations: s.Annotations}, true, nil
	case ref.Kind == "Job" && isGroup(ref, batchv1.GroupName):
		j := &batchv1.Job{}
		if err := r.get(ctx, ns, ref.Name, j); err != nil {
			return Workload{}, false, err
		}
		if owner := metav1.GetControllerOf(j); owner != nil && owner.Kind == "CronJob" && isGroup(owner, batchv1.GroupName) {
			cj := &batchv1.CronJob{}
			if err := r.get(ctx, ns, owner.Name, cj); err != nil {
				return Workload{}, false, err
			}
			return Workload{Key: WorkloadKey{Namespace: ns, Kind: "CronJob", Name: cj.Name}, Annotations: cj.Annotations}, true, nil
		}
		return Workload{Key: WorkloadKey{Namespace: ns, Kind: "Job", Name: j.Name}, Annotations: j.Annotations}, true, nil
	}
	return Workload{}, false, nil
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
