package decision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/replicas"
	"github.com/trimtab-dev/trimtab/signals/prometheus"
)

// Signals is what the controller reads from Prometheus;
// *prometheus.Client implements it. See prometheus.Reader for the contract.
type Signals interface {
	Instant(ctx context.Context, exprs []string, at time.Time) []prometheus.Result
	Range(ctx context.Context, exprs []string, from, to time.Time, step time.Duration) []prometheus.Series
	PodCPU(ctx context.Context, namespaces []string, at time.Time) ([]prometheus.PodCPU, error)
}

// Defaults of the controller's periods and budgets.
const (
	// DefaultPeriod is the HPA's sync period.
	DefaultPeriod = 15 * time.Second
	// DefaultStatusRefresh bounds how old a Decision's freshness fields
	// (last signal time, forecast) may get before an otherwise unchanged
	// status is written again.
	DefaultStatusRefresh = time.Minute
	// DefaultCheckpointEvery is how often each workload's learned state is
	// saved (VPA checkpoints every minute; a forecaster learns slowly, and
	// five minutes lost to a crash costs it nothing it cannot re-learn).
	DefaultCheckpointEvery = 5 * time.Minute
	// DefaultWarmStartsPerSync bounds the week-long range queries one sync
	// makes, so a manager meeting 10,000 workloads at once spreads their
	// warm starts over a few minutes instead of asking Prometheus for
	// 100 million points in one go.
	DefaultWarmStartsPerSync = 200
	// DefaultHistory is how much history a warm start reads: the
	// forecaster's weekly period needs a week.
	DefaultHistory = 7 * 24 * time.Hour
	// DefaultHistoryStep is the warm start's sample step.
	DefaultHistoryStep = time.Minute
	// DefaultShadowWindow is the trailing window of the shadow comparison.
	DefaultShadowWindow = 24 * time.Hour
	// DefaultRoutineWrites bounds the routine writes of one sync: status
	// refreshes with nothing material changed, and checkpoints. A
	// 1,000-workload cluster needs about 300 a sync (a refresh a minute
	// and a checkpoint every 5 for each); beyond that the oldest go first
	// and the rest wait, so the manager's client (50 requests/s, 750 a
	// sync) keeps room for what matters: scales, new Decisions, changed
	// statuses, which are never budgeted. VPA's recommender bounds its
	// checkpoint writes per loop the same way.
	DefaultRoutineWrites = 300
	// DefaultWorkers is how many workloads one sync handles at once (the
	// HPA controller's --concurrent-horizontal-pod-autoscaler-syncs is 5;
	// our per-workload work is mostly waiting on a write).
	DefaultWorkers = 8
)

// Controller runs the replica decisions of every opted-in workload. Build
// it with its fields set and add it to a manager (it needs leader
// election), or call Sync directly.
type Controller struct {
	// Client reads workloads, pods, HPAs and Decisions (from the cache) and
	// writes Decisions, checkpoints and scales.
	Client client.Client
	// Uncached reads objects the manager does not cache (checkpoints); nil
	// reads through Client.
	Uncached client.Reader
	// Signals reads Prometheus; nil when none is configured: every workload
	// then holds with SignalsFresh=False.
	Signals  Signals
	Clock    clock.WithTicker
	Recorder events.EventRecorder
	Settings config.Settings
	// Namespaces narrows the opted-in namespaces further (nil: all of
	// them); the end-to-end tests give each test's manager its own.
	Namespaces labels.Selector
	// Timing is the control loop's delays the deciders size for; its Sync
	// should be Period. Zero: replicas.DefaultTiming.
	Timing replicas.Timing

	Period, StatusRefresh, CheckpointEvery time.Duration
	History, HistoryStep, ShadowWindow     time.Duration
	WarmStartsPerSync                      int
	// Workers is how many workloads a sync handles at once; 0: DefaultWorkers.
	Workers int
	// RoutineWrites is the most status refreshes and checkpoints one sync
	// writes; 0: DefaultRoutineWrites.
	RoutineWrites int

	// Outlooks, when set, gives each workload's spot outlook from the
	// placer (controllers/placement.Outlooks): batch workloads with
	// capacity auto then get a capacity that follows it (issue 16).
	Outlooks Outlooks

	mu      sync.Mutex
	tracked map[workloadKey]*tracked
	// routine is what is left of this sync's RoutineWrites.
	routine atomic.Int64
}

// NeedLeaderElection makes the manager run the controller on the elected
// replica only: two replicas must never both scale a workload.
func (c *Controller) NeedLeaderElection() bool { return true }

// Start syncs every Period until ctx ends. A failed sync is logged and
// retried at the next period; it never stops the manager.
func (c *Controller) Start(ctx context.Context) error {
	c.defaults()
	log := logf.FromContext(ctx).WithName("decision")
	ctx = logf.IntoContext(ctx, log)
	log.Info("starting the decision controller", "period", c.Period, "prometheus", c.Signals != nil)
	t := c.Clock.NewTicker(c.Period)
	defer t.Stop()
	for {
		stats, err := c.Sync(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error(err, "decision sync failed; retrying at the next period")
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
	if c.Period == 0 {
		c.Period = DefaultPeriod
	}
	if c.StatusRefresh == 0 {
		c.StatusRefresh = DefaultStatusRefresh
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = DefaultCheckpointEvery
	}
	if c.History == 0 {
		c.History = DefaultHistory
	}
	if c.HistoryStep == 0 {
		c.HistoryStep = DefaultHistoryStep
	}
	if c.ShadowWindow == 0 {
		c.ShadowWindow = DefaultShadowWindow
	}
	if c.RoutineWrites <= 0 {
		c.RoutineWrites = DefaultRoutineWrites
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.WarmStartsPerSync == 0 {
		c.WarmStartsPerSync = DefaultWarmStartsPerSync
	}
	if c.Timing == (replicas.Timing{}) {
		c.Timing = replicas.DefaultTiming
	}
	if c.tracked == nil {
		c.tracked = map[workloadKey]*tracked{}
	}
}

// SyncStats is what one sync did, for logs and benchmarks.
type SyncStats struct {
	Workloads, Decided, Held, WarmStarts, Restored int
	StatusWrites, Creates, Scales, Checkpoints     int
	// SignalsTime is the wall time spent reading Prometheus (warm starts
	// included), the part of a sync workers do not overlap.
	SignalsTime time.Duration
}

// add sums the per-workload counts of o into s.
func (s *SyncStats) add(o SyncStats) {
	s.Decided += o.Decided
	s.Held += o.Held
	s.StatusWrites += o.StatusWrites
	s.Creates += o.Creates
	s.Scales += o.Scales
	s.Checkpoints += o.Checkpoints
}

// Sync runs one pass over every opted-in workload: read the signals of all
// at once, decide each, write what changed, scale in enforce mode, save due
// checkpoints. A workload's own failure is reported on its Decision and
// does not stop the others; the error is for failures of the whole pass
// (the cache unreadable) or a join of the workloads' write errors.
func (c *Controller) Sync(ctx context.Context) (SyncStats, error) {
	c.defaults()
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.Clock.Now()
	var st SyncStats
	ws, err := c.listWorkloads(ctx)
	if err != nil {
		return st, err
	}
	st.Workloads = len(ws)
	decisions, err := c.listDecisions(ctx)
	if err != nil {
		return st, err
	}
	hpas, err := c.listHPAs(ctx, ws)
	if err != nil {
		return st, err
	}
	for _, w := range ws {
		c.track(ctx, w, decisions[w.key], &st)
	}
	read := time.Now()
	c.warmStart(ctx, ws, now, &st)
	sig := c.readSignals(ctx, ws, now)
	st.SignalsTime = time.Since(read)
	c.routine.Store(int64(c.RoutineWrites))
	errs := c.syncAll(ctx, oldestFirst(ws, c.tracked), decisions, hpas, sig, now, &st)
	// Jobs and CronJobs: a capacity only, no replicas (batch.go).
	if err := c.syncBatch(ctx, decisions, now, &st); err != nil {
		errs = append(errs, err)
	}
	c.forget(ws)
	syncsTotal.Inc()
	syncDuration.Observe(c.Clock.Since(now).Seconds())
	return st, errors.Join(errs...)
}

// syncAll syncs the workloads on Workers goroutines: a sync's time is its
// writes' round trips, and one at a time they add up (1,000 workloads on a
// busy apiserver took 9.8 s a sync). The tracked map is only read here;
// each worker keeps its own stats, summed at the end.
func (c *Controller) syncAll(ctx context.Context, ws []*workload, decisions map[workloadKey]*v1alpha1.Decision,
	hpas map[workloadKey]*autoscalingv2.HorizontalPodAutoscaler, sig map[workloadKey]*signalsOf, now time.Time, st *SyncStats) []error {
	next := make(chan *workload)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range min(c.Workers, len(ws)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var own SyncStats
			var ownErrs []error
			for w := range next {
				if err := c.syncWorkload(ctx, w, decisions[w.key], hpas[w.key], sig[w.key], now, &own); err != nil {
					ownErrs = append(ownErrs, fmt.Errorf("%s: %w", w.key, err))
				}
			}
			mu.Lock()
			defer mu.Unlock()
			st.add(own)
			errs = append(errs, ownErrs...)
		}()
	}
	for _, w := range ws {
		next <- w
	}
	close(next)
	wg.Wait()
	return errs
}

// oldestFirst orders the workloads by their oldest routine write, so the
// budget goes to the stalest; never-written ones come first.
func oldestFirst(ws []*workload, tracked map[workloadKey]*tracked) []*workload {
	oldest := func(w *workload) time.Time {
		t := tracked[w.key]
		if t.lastCheckpoint.Before(t.lastWrite) {
			return t.lastCheckpoint
		}
		return t.lastWrite
	}
	out := slices.Clone(ws)
	slices.SortStableFunc(out, func(a, b *workload) int { return oldest(a).Compare(oldest(b)) })
	return out
}

// routineWrite takes one write from the sync's budget; false when none is
// left.
func (c *Controller) routineWrite() bool {
	return c.routine.Add(-1) >= 0
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
