package mutating

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/trimtab-dev/trimtab/config"
)

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
// Ledger (fed by the pod informer on every replica) and Event queue, and
// the optional parts opts add.
func Setup(mgr ctrl.Manager, s config.Settings, opts ...SetupOption) error {
	c := clock.RealClock{}
	ledger := NewLedger(c, DefaultReservationTTL, pendingPlacements)
	ledger.ready = make(chan struct{}) // until the informer has synced
	queue := NewEventQueue(mgr.GetEventRecorder(EventSource), c, DefaultReservationTTL)
	queue.UIDOf = cachedUID(mgr.GetClient())
	queue.Instance = ReportingInstance(EventSource)
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
	mgr.GetWebhookServer().Register(Path, withCallerDeadline(&admission.Webhook{Handler: h}))
	if err := mgr.Add(&ledgerRunnable{cache: mgr.GetCache(), ledger: ledger, clock: c}); err != nil {
		return err
	}
	return mgr.Add(&eventRunnable{cache: mgr.GetCache(), live: mgr.GetAPIReader(), queue: queue, clock: c})
}

// ledgerRunnable feeds the pod informer into the Ledger and sweeps its
// expired reservations. It runs on every replica: each counts for its own
// admissions.
type ledgerRunnable struct {
	cache  cache.Cache
	ledger *Ledger
	clock  clock.WithTicker
}

func (r *ledgerRunnable) NeedLeaderElection() bool { return false }

func (r *ledgerRunnable) Start(ctx context.Context) error {
	inf, err := r.cache.GetInformer(ctx, &corev1.Pod{})
	if err != nil {
		return fmt.Errorf("getting the pod informer: %w", err)
	}
	observe := func(obj any) {
		if pod, ok := obj.(*corev1.Pod); ok {
			r.ledger.Observe(pod)
		}
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    observe,
		UpdateFunc: func(_, obj any) { observe(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				r.ledger.Forget(pod)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("counting placed pods: %w", err)
	}
	if !toolscache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
		return nil // stopping
	}
	close(r.ledger.ready)
	t := r.clock.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return inf.RemoveEventHandler(reg)
		case <-t.C():
			r.ledger.Sweep()
		}
	}
}

// sweepEvery is how often expired reservations are swept when no admission
// sweeps them.
const sweepEvery = 5 * time.Second

// eventRunnable feeds the pod informer into the EventQueue. It runs on every
// replica (not only the leader): the replica that admitted a pod records its
// Event.
type eventRunnable struct {
	cache cache.Cache
	live  client.Reader // lists Events for Recover
	queue *EventQueue
	clock clock.WithTicker
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
	if !toolscache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
		return inf.RemoveEventHandler(reg) // stopping
	}
	// Recover once an old replica still stopping has written its last
	// batches (eventrecovery.go).
	recoverAt := r.clock.NewTimer(r.queue.Interval + 2*flushEvery)
	defer recoverAt.Stop()
	t := r.clock.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-recoverAt.C():
			r.recover(ctx)
		case <-ctx.Done():
			r.queue.Flush(true) // the recorder may still write them while the manager stops
			return inf.RemoveEventHandler(reg)
		case <-t.C():
			r.queue.Flush(false)
		}
	}
}

// recover writes the Events a restart lost (eventrecovery.go); a failure
// costs only those Events, so it is logged, not returned.
func (r *eventRunnable) recover(ctx context.Context) {
	log := logf.FromContext(ctx).WithName("events")
	ctx, cancel := context.WithTimeout(ctx, recoverTimeout)
	defer cancel()
	var pods corev1.PodList
	if err := r.cache.List(ctx, &pods); err != nil {
		log.Error(err, "listing placed pods to recover the Events a restart lost")
		return
	}
	n, err := r.queue.Recover(ctx, pods.Items, r.live)
	if err != nil {
		log.Error(err, "recovering the Events a restart lost", "written", n)
		return
	}
	if n > 0 {
		log.Info("wrote the Events of pods admitted before the restart", "events", n)
	}
}

// recoverTimeout bounds the Event lists of a recovery.
const recoverTimeout = 30 * time.Second

// flushEvery is how often the Event queue looks for batches to write: a
// batch is written at most this long after its interval has passed.
const flushEvery = time.Second

// cachedUID reads a workload's UID from the manager's cache, which holds the
// workloads the Resolver reads; empty if it has none.
func cachedUID(r client.Reader) func(WorkloadKey) types.UID {
	return func(w WorkloadKey) types.UID {
		var obj client.Object
		switch w.Kind {
		case "Deployment":
			obj = &appsv1.Deployment{}
		case "StatefulSet":
			obj = &appsv1.StatefulSet{}
		case "Job":
			obj = &batchv1.Job{}
		case "CronJob":
			obj = &batchv1.CronJob{}
		default:
			return ""
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := r.Get(ctx, client.ObjectKey{Namespace: w.Namespace, Name: w.Name}, obj); err != nil {
			return ""
		}
		return obj.GetUID()
	}
}
