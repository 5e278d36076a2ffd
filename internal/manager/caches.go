package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/webhook/mutating"
)

// The informer caches are cluster-wide. The apiserver can narrow a list or
// watch by labels and fields of the object itself, but not by its
// namespace's labels, so "opted-in namespaces only" would take one set of
// informers per opted-in namespace, started when a namespace is labelled:
// one watch per namespace and kind on the apiserver, and a namespace's first
// pods admitted before its informers sync. What the caches hold is trimmed
// instead (trimObject), and docs/architecture.md records the memory that
// costs at 10,000 workloads.

// webhookKinds are the kinds the webhooks read through the cache: the pod
// webhook's placed pods and owner chain, the workload webhook's HPAs.
func webhookKinds() []client.Object {
	return []client.Object{
		&corev1.Pod{}, &appsv1.ReplicaSet{}, &appsv1.Deployment{}, &appsv1.StatefulSet{},
		&batchv1.Job{}, &batchv1.CronJob{}, &autoscalingv2.HorizontalPodAutoscaler{},
	}
}

// decisionKinds are the kinds only the decision controller lists.
func decisionKinds() []client.Object {
	return []client.Object{&corev1.Namespace{}, &v1alpha1.Decision{}}
}

// lastApplied is kubectl's copy of the whole object it last applied; nothing
// trimtab reads, often the largest annotation.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// cacheOptions are the manager's cache options: the pod webhook's pod
// filter, and every cached object trimmed to what trimtab reads.
func cacheOptions() cache.Options {
	byObject := mutating.CacheByObject()
	for obj, o := range byObject {
		if o.Transform == nil {
			o.Transform = trimObject
			byObject[obj] = o
		}
	}
	return cache.Options{ByObject: byObject, DefaultTransform: trimObject}
}

// trimObject drops from an object entering the cache what no reader of the
// cache uses: managed fields and kubectl's last-applied copy everywhere, and
// the pod template of ReplicaSets and Jobs, whose owner references,
// metadata, replica counts and status are all the webhook follows (the
// template of a Deployment or StatefulSet stays: the decision controller
// reads its CPU requests; of a Job's, its scheduling constraints stay, for
// the placer). Nothing writes a cached object back, so nothing
// can lose what is dropped here.
func trimObject(in any) (any, error) {
	obj, err := meta.Accessor(in)
	if err != nil {
		return in, nil // a tombstone (DeletedFinalStateUnknown): leave it
	}
	obj.SetManagedFields(nil)
	if a := obj.GetAnnotations(); a[lastApplied] != "" {
		delete(a, lastApplied)
		obj.SetAnnotations(a)
	}
	switch o := in.(type) {
	case *appsv1.ReplicaSet:
		o.Spec.Template = corev1.PodTemplateSpec{}
	case *batchv1.Job:
		// The placer reads a Job's scheduling constraints, to know which
		// spot markets its new pods may land in (placer.Exposure).
		ps := o.Spec.Template.Spec
		o.Spec.Template = corev1.PodTemplateSpec{Spec: corev1.PodSpec{NodeSelector: ps.NodeSelector, Affinity: ps.Affinity, Tolerations: ps.Tolerations}}
	}
	return in, nil
}

// cachesSynced is a readiness check that passes once the informers of kinds
// have synced. Until then the webhooks would answer from an empty cache (a
// pod's owners looked up live one by one, its workload's placed pods not
// counted), so the pod must not receive admissions: the chart's Service
// sends traffic only to ready pods.
type cachesSynced struct {
	cache  cache.Cache
	kinds  []client.Object
	synced atomic.Bool
}

// addCachesSynced registers the informers of kinds with mgr's cache, so
// they start with it, and a readiness check named "caches" that passes once
// all have synced.
func addCachesSynced(mgr ctrl.Manager, kinds []client.Object) error {
	c := &cachesSynced{cache: mgr.GetCache(), kinds: kinds}
	for _, k := range kinds {
		// Not blocking: the cache has not started; it starts every informer
		// registered here and waits for them before Start below runs.
		if _, err := c.cache.GetInformer(context.Background(), k, cache.BlockUntilSynced(false)); err != nil {
			return fmt.Errorf("registering the %T informer: %w", k, err)
		}
	}
	if err := mgr.Add(c); err != nil {
		return fmt.Errorf("adding the cache readiness check: %w", err)
	}
	if err := mgr.AddReadyzCheck("caches", c.check); err != nil {
		return fmt.Errorf("adding the cache readiness check: %w", err)
	}
	return nil
}

// Start waits for the informers to sync and marks them synced. The manager
// starts runnables like this one after its caches' initial sync, so the
// wait is normally over at once.
func (c *cachesSynced) Start(ctx context.Context) error {
	if !c.cache.WaitForCacheSync(ctx) {
		if ctx.Err() != nil {
			return nil // shutting down before the first sync
		}
		return errors.New("the informer caches never synced")
	}
	c.synced.Store(true)
	return nil
}

// NeedLeaderElection is false: every replica serves the webhooks.
func (c *cachesSynced) NeedLeaderElection() bool { return false }

func (c *cachesSynced) check(*http.Request) error {
	if !c.synced.Load() {
		return fmt.Errorf("informer caches of %d kinds not synced yet", len(c.kinds))
	}
	return nil
}
