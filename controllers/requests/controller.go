package requests

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/signals/prometheus"
)

// UsageReader is what the controller reads from Prometheus;
// *prometheus.Client implements it (see its Usage for the contract).
type UsageReader interface {
	Usage(ctx context.Context, sels []prometheus.PodSelector, from, to time.Time, step time.Duration) prometheus.UsageResult
}

// Defaults of the controller's periods and budgets.
const (
	// DefaultPeriod is VPA's recommender loop.
	DefaultPeriod = time.Minute
	// DefaultStep is the usage resolution: the model's figures in
	// docs/requests.md were measured on 5-minute samples.
	DefaultStep = 5 * time.Minute
	// DefaultLag keeps the newest step read this far behind the clock, so
	// its scrapes have landed.
	DefaultLag = 30 * time.Second
	// DefaultHistory is what a warm start reads: VPA's history length; the
	// weekly envelope and the leak detector's week of floors need a week
	// and the hours before it.
	DefaultHistory = 8 * 24 * time.Hour
	// DefaultMinHistory is how much usage a model must have seen before a
	// recommendation may go below the pod template's requests.
	DefaultMinHistory = 24 * time.Hour
	// DefaultWarmStartsPerSync bounds the 8-day reads of one sync.
	DefaultWarmStartsPerSync = 50
	// DefaultCheckpointEvery is how often each workload's models are saved.
	DefaultCheckpointEvery = 5 * time.Minute
	// DefaultStatusRefresh bounds how old status.requests may get when
	// nothing in it changed.
	DefaultStatusRefresh = 5 * time.Minute
)

// Controller runs the learned requests of every opted-in workload. Build it
// with its fields set and add it to a manager (it needs leader election),
// or call Sync directly.
type Controller struct {
	// Client reads workloads, Decisions, nodes and LimitRanges (from the
	// cache) and writes Decision statuses and checkpoints.
	Client client.Client
	// Uncached reads what the manager does not cache: pods (its pod cache
	// holds only the pods the webhook placed) and checkpoints. Nil reads
	// through Client.
	Uncached client.Reader
	// Usage reads Prometheus; nil when none is configured: every workload
	// then holds with SignalsFresh=False.
	Usage    UsageReader
	Clock    clock.WithTicker
	Recorder events.EventRecorder
	Settings config.Settings
	// Namespaces narrows the opted-in namespaces further (nil: all).
	Namespaces labels.Selector
	// CreateDecisions creates a workload's Decision when it has none; off
	// when the replica controller runs, which creates them.
	CreateDecisions bool

	Period, Step, Lag, History, MinHistory time.Duration
	CheckpointEvery, StatusRefresh         time.Duration
	WarmStartsPerSync                      int

	// In-place resize (resize.go); zero takes the Default.
	ResizeEvery, ResizeDeferredFor, ResizeInProgressFor time.Duration
	ResizesPerMinute                                    int

	// resized holds the times of the cluster's resizes of the last minute.
	resized []time.Time

	mu      sync.Mutex
	tracked map[workloadKey]*tracked
}

// NeedLeaderElection makes the manager run the controller on the elected
// replica only: two replicas must never both write a Decision's
// recommendations or count the same OOM kill.
func (c *Controller) NeedLeaderElection() bool { return true }

// Start syncs every Period until ctx ends. A failed sync is logged and
// retried at the next period.
func (c *Controller) Start(ctx context.Context) error {
	c.defaults()
	log := logf.FromContext(ctx).WithName("requests")
	ctx = logf.IntoContext(ctx, log)
	log.Info("starting the requests controller", "period", c.Period, "step", c.Step, "prometheus", c.Usage != nil)
	t := c.Clock.NewTicker(c.Period)
	defer t.Stop()
	for {
		stats, err := c.Sync(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error(err, "requests sync failed; retrying at the next period")
		} else {
			log.V(1).Info("synced", "stats", stats)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
	}
}

func (c *Controller) defaults() {
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&c.Period, DefaultPeriod)
	set(&c.Step, DefaultStep)
	set(&c.Lag, DefaultLag)
	set(&c.History, DefaultHistory)
	set(&c.MinHistory, DefaultMinHistory)
	set(&c.CheckpointEvery, DefaultCheckpointEvery)
	set(&c.StatusRefresh, DefaultStatusRefresh)
	set(&c.ResizeEvery, DefaultResizeEvery)
	set(&c.ResizeDeferredFor, DefaultResizeDeferredFor)
	set(&c.ResizeInProgressFor, DefaultResizeInProgressFor)
	if c.ResizesPerMinute == 0 {
		c.ResizesPerMinute = DefaultResizesPerMinute
	}
	if c.WarmStartsPerSync == 0 {
		c.WarmStartsPerSync = DefaultWarmStartsPerSync
	}
	if c.tracked == nil {
		c.tracked = map[workloadKey]*tracked{}
	}
}

// SyncStats is what one sync did, for logs, tests and benchmarks.
type SyncStats struct {
	Workloads, WarmStarts, Restored, Samples int
	// Skipped counts the usage points and series left out, by reason.
	Skipped                         map[string]int
	OOMs, StatusWrites, Checkpoints int
	// Resizes counts the pods resized in place; ResizesLimited the
	// resizes the cluster-wide rate held back, ResizesNoRoom those whose
	// node had no room, ResizesFailed those the apiserver refused.
	Resizes, ResizesLimited, ResizesNoRoom, ResizesFailed int
}

// Sync runs one pass over every workload with requests: auto: read the
// usage of all at once, learn, count OOM kills, record the
// recommendations, save due checkpoints. A workload's own failure is
// reported on its Decision and does not stop the others.
func (c *Controller) Sync(ctx context.Context) (SyncStats, error) {
	c.defaults()
	c.mu.Lock()
	defer c.mu.Unlock()
	start := c.Clock.Now()
	now := start
	st := SyncStats{Skipped: map[string]int{}}
	ws, err := c.listWorkloads(ctx)
	if err != nil {
		return st, err
	}
	decisions, err := c.listDecisions(ctx)
	if err != nil {
		return st, err
	}
	nodes, err := c.nodes(ctx)
	if err != nil {
		return st, err
	}
	var errs []error
	var auto []*workload
	for _, w := range ws {
		if !w.auto() {
			if d := decisions[w.key]; d != nil && d.Status.Requests != nil {
				errs = append(errs, c.clear(ctx, d))
			}
			continue
		}
		d := decisions[w.key]
		if d == nil && c.CreateDecisions {
			if d, err = c.createDecision(ctx, w); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", w.key, err))
				continue
			}
		}
		if d == nil {
			continue // the replica controller creates it within a sync
		}
		w.decision = d
		auto = append(auto, w)
	}
	st.Workloads = len(auto)
	if err := c.listPods(ctx, auto); err != nil {
		return st, err
	}
	for _, w := range auto {
		c.track(ctx, w, &st)
	}
	c.readUsage(ctx, auto, nodes, now, &st)
	for _, w := range auto {
		if err := c.syncWorkload(ctx, w, nodes, now, &st); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", w.key, err))
		}
	}
	c.forget(auto)
	for reason, n := range st.Skipped {
		skippedTotal.WithLabelValues(reason).Add(float64(n))
	}
	if len(st.Skipped) > 0 {
		logf.FromContext(ctx).Info("usage left out", "counts", st.Skipped)
	}
	syncsTotal.Inc()
	syncDuration.Observe(c.Clock.Since(start).Seconds())
	return st, errors.Join(errs...)
}

func (c *Controller) reader() client.Reader {
	if c.Uncached != nil {
		return c.Uncached
	}
	return c.Client
}

func logFor(ctx context.Context, w *workload) logr.Logger {
	return logf.FromContext(ctx).WithValues("workload", w.key.String())
}
