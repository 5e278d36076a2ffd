package mutating

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/trimtab-dev/trimtab/config"
)

// workloadIndex indexes cached pods by the WorkloadKey (as a string) of the
// workload their decision names.
const workloadIndex = "trimtab.dev/workload"

// CacheByObject restricts the manager's pod cache to the pods trimtab placed
// (those carrying LabelPlacement): the webhook only ever counts those, and a
// cluster's other pods need not cost the manager memory. Pass it as
// cache.Options.ByObject when creating the manager.
func CacheByObject() map[client.Object]cache.ByObject {
	placed, err := labels.NewRequirement(LabelPlacement, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant, valid label key
	}
	return map[client.Object]cache.ByObject{
		&corev1.Pod{}: {Label: labels.NewSelector().Add(*placed)},
	}
}

// Setup registers the pod mutator on mgr's webhook server at Path, with its
// pod index, Ledger and Event queue, and the optional parts opts add.
func Setup(mgr ctrl.Manager, s config.Settings, opts ...SetupOption) error {
	ctx := context.Background()
	if err := mgr.GetFieldIndexer().IndexField(ctx, &corev1.Pod{}, workloadIndex, func(o client.Object) []string {
		d, ok := decisionOf(o.GetAnnotations())
		if !ok || d.Placement == "" {
			return nil
		}
		key, ok := keyOf(o.GetNamespace(), d.Workload)
		if !ok {
			return nil
		}
		return []string{key.String()}
	}); err != nil {
		return fmt.Errorf("indexing pods by workload: %w", err)
	}
	c := clock.RealClock{}
	ledger := NewLedger(cachedPods{mgr.GetCache()}, c, DefaultReservationTTL, pendingPlacements)
	queue := NewEventQueue(mgr.GetEventRecorder("trimtab-webhook"), c, DefaultReservationTTL)
	h := &Handler{
		Settings: s,
		Resolver: Resolver{Cache: mgr.GetClient(), Live: mgr.GetAPIReader()},
		Ledger:   ledger,
		Events:   queue,
		Clock:    c,
	}
	for _, o := range opts {
		o(h)
	}
	mgr.GetWebhookServer().Register(Path, &admission.Webhook{Handler: h})
	return mgr.Add(&eventRunnable{cache: mgr.GetCache(), queue: queue})
}

// cachedPods lists a workload's placed pods from the informer cache.
type cachedPods struct{ reader client.Reader }

func (c cachedPods) PlacedPods(ctx context.Context, workload WorkloadKey) ([]PlacedPod, error) {
	var list corev1.PodList
	// Read-only: skip the cache's per-object deep copy, which would copy
	// every pod of the workload on every admission.
	if err := c.reader.List(ctx, &list, client.InNamespace(workload.Namespace), client.MatchingFields{workloadIndex: workload.String()}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing placed pods of %s: %w", workload, err)
	}
	out := make([]PlacedPod, 0, len(list.Items))
	for i := range list.Items {
		p := &list.Items[i]
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue // it no longer holds capacity
		}
		if d, ok := decisionOf(p.Annotations); ok {
			out = append(out, PlacedPod{AdmissionID: d.AdmissionID, Placement: d.Placement})
		}
	}
	return out, nil
}

// eventRunnable feeds the pod informer into the EventQueue. It runs on every
// replica (not only the leader): the replica that admitted a pod records its
// Event.
type eventRunnable struct {
	cache cache.Cache
	queue *EventQueue
}

func (r *eventRunnable) NeedLeaderElection() bool { return false }

func (r *eventRunnable) Start(ctx context.Context) error {
	inf, err := r.cache.GetInformer(ctx, &corev1.Pod{})
	if err != nil {
		return fmt.Errorf("getting the pod informer: %w", err)
	}
	observe := func(obj any) {
		if pod, ok := obj.(*corev1.Pod); ok {
			r.queue.Observe(pod)
		}
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    observe,
		UpdateFunc: func(_, obj any) { observe(obj) },
	})
	if err != nil {
		return fmt.Errorf("watching pods for events: %w", err)
	}
	<-ctx.Done()
	return inf.RemoveEventHandler(reg)
}
