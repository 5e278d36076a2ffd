// Package executor carries out a placer plan (placer.Plan): it records each
// workload's plan on its Decision (status.placement) and only then evicts
// the pods the plan moves now, through the Eviction API so that
// PodDisruptionBudgets hold, with the pod's UID as a precondition so that a
// pod of the same name created since is never evicted.
//
// It does not trust the plan alone. Whatever the plan says, it evicts
// nothing in dry-run mode or for a workload not in enforce mode, never a
// pod of a critical or standard workload, never a pod its Decision records
// as evicted already, never before a refused eviction's backoff, and never
// beyond the workload's or the cluster's eviction budget.
//
// Leader changes: the record is written with optimistic locking, the moves
// about to be evicted in state Evicting, before any eviction. A leader that
// stops after that write leaves Evicting moves; the next plan looks at each
// pod (gone or terminating: the eviction went through and is counted;
// still running: it did not, and the move is planned again), so no pod is
// evicted twice and no eviction escapes the budget. A write that conflicts
// (another leader, or the decision controller, wrote meanwhile) evicts
// nothing this round.
package executor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/placer"
)

// Executor records and carries out plans.
type Executor struct {
	// Client reads and writes Decisions and creates evictions.
	Client client.Client
	// Recorder, if set, gets an Event on the Decision for every eviction
	// made, refused or dropped.
	Recorder events.EventRecorder
	// Settings are the placer's: DryRun, the budgets, the backoff.
	Settings config.PlacerSettings
	Clock    clock.PassiveClock
}

// Report counts what one Apply did.
type Report struct {
	// Evicted: accepted by the Eviction API. Blocked: refused with 429 (a
	// PodDisruptionBudget). Dropped: the pod was gone or replaced (404, or
	// the UID precondition failed). Held: the plan said evict and a guard
	// here refused. DryRun: recorded only.
	Evicted, Blocked, Dropped, Held, DryRun int
	// Written is the number of Decisions whose record was written.
	Written int
}

// Apply records res on the Decisions of in's workloads and evicts what it
// allows. It returns every error met; one workload's error does not stop
// the others.
func (e *Executor) Apply(ctx context.Context, in placer.Input, res placer.Result) (Report, error) {
	var rep Report
	now := e.Clock.Now()
	ws := map[placer.Key]*placer.Workload{}
	for i := range in.Workloads {
		ws[in.Workloads[i].Key] = &in.Workloads[i]
	}
	done := map[placer.Key][]placer.Eviction{}
	for _, d := range res.Done {
		done[d.Workload] = append(done[d.Workload], d)
	}
	clusterUsed := len(window(append(append([]placer.Eviction(nil), in.Evictions...), res.Done...), now, e.Settings.ClusterBudget.Per))
	for _, d := range res.Done {
		movesDone.WithLabelValues(string(d.Kind)).Inc()
	}
	states := map[placer.State]int{}
	defer recordMoves(states)

	keys := make([]placer.Key, 0, len(res.Plans))
	for k := range res.Plans {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	decisions := map[string]map[placer.Key]*v1alpha1.Decision{}
	var errs []error
	for _, k := range keys {
		if decisions[k.Namespace] == nil {
			m, err := e.listDecisions(ctx, k.Namespace)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			decisions[k.Namespace] = m
		}
		d := decisions[k.Namespace][k]
		w := ws[k]
		switch {
		case d == nil:
			errs = append(errs, fmt.Errorf("%s: no Decision to record the plan on; nothing evicted", k))
			continue
		case w == nil:
			errs = append(errs, fmt.Errorf("%s: planned but not among the plan's workloads; nothing evicted", k))
			continue
		}
		n, err := e.workload(ctx, d, w, res.Plans[k], done[k], now, &clusterUsed, &rep, states)
		clusterUsed += n
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
	}
	return rep, errors.Join(errs...)
}

func (e *Executor) listDecisions(ctx context.Context, ns string) (map[placer.Key]*v1alpha1.Decision, error) {
	var list v1alpha1.DecisionList
	if err := e.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("listing the Decisions of namespace %s: %w", ns, err)
	}
	out := map[placer.Key]*v1alpha1.Decision{}
	for i := range list.Items {
		out[keyOf(&list.Items[i])] = &list.Items[i]
	}
	return out, nil
}

// workload records and carries out one workload's plan; it returns how
// many evictions the Eviction API accepted.
func (e *Executor) workload(ctx context.Context, d *v1alpha1.Decision, w *placer.Workload, plan []placer.Move, done []placer.Eviction, now time.Time, clusterUsed *int, rep *Report, states map[placer.State]int) (int, error) {
	ps := e.Settings
	_, recorded := FromStatus(d, "")
	per := max(ps.WorkloadBudget.Per, ps.ClusterBudget.Per)
	evs := window(append(append(recorded, w.Evictions...), done...), now, per)
	evs = dedupe(evs)
	// What the Decision says happened to each UID already.
	gone := map[types.UID]bool{}
	for _, ev := range evs {
		gone[ev.UID] = true
	}
	backoff := map[types.UID]placer.Move{}
	prior, _ := FromStatus(d, "")
	for _, m := range prior {
		switch {
		case m.State == placer.Evicted:
			gone[m.UID] = true
		case !m.NextAttempt.IsZero():
			backoff[m.UID] = m
		}
	}

	workloadUsed := len(window(evs, now, ps.WorkloadBudget.Per))
	moves := append([]placer.Move(nil), plan...)
	var evict []int
	for i := range moves {
		m := &moves[i]
		if m.Action != placer.Evict {
			continue
		}
		hold := ""
		switch {
		case ps.DryRun || !w.Inputs.Enforce:
			m.State, m.Action = placer.DryRun, placer.Record
			rep.DryRun++
			continue
		case w.Class != config.ClassBatch || !w.Inputs.Evictable:
			hold = fmt.Sprintf("class %s: the placer evicts only batch pods", w.Class)
		case gone[m.UID]:
			hold = "the Decision records this pod as evicted already: never evicted twice"
		case backoff[m.UID].NextAttempt.After(now):
			b := backoff[m.UID]
			m.State, m.Attempts, m.NextAttempt, m.Message = b.State, b.Attempts, b.NextAttempt, b.Message
			hold = "backing off after a refused eviction until " + b.NextAttempt.UTC().Format(time.RFC3339)
		case workloadUsed >= ps.WorkloadBudget.Evictions:
			hold = fmt.Sprintf("workload budget spent: %d eviction(s) in the last %v (budget %s)", workloadUsed, ps.WorkloadBudget.Per, ps.WorkloadBudget)
		case *clusterUsed+len(evict) >= ps.ClusterBudget.Evictions:
			hold = fmt.Sprintf("cluster budget spent: %d eviction(s) in the last %v (budget %s)", *clusterUsed+len(evict), ps.ClusterBudget.Per, ps.ClusterBudget)
		}
		if hold != "" {
			if gone[m.UID] {
				m.State = placer.Evicted
			}
			m.Action, m.Hold = placer.Wait, hold
			rep.Held++
			continue
		}
		m.State = placer.Evicting
		evict = append(evict, i)
		workloadUsed++
	}

	// Record first: the moves about to be evicted are Evicting on the
	// Decision before the first eviction is asked for.
	d, err := e.write(ctx, d, moves, evs, now, true)
	if err != nil {
		return 0, fmt.Errorf("recording the plan before evicting (nothing evicted): %w", err)
	}
	rep.Written++
	if len(evict) == 0 {
		countStates(states, moves)
		return 0, nil
	}

	accepted := 0
	var errs []error
	var keep []placer.Move
	dropped := map[int]bool{}
	for _, i := range evict {
		m := &moves[i]
		err := e.evict(ctx, w.Key.Namespace, m.Pod, m.UID)
		switch {
		case err == nil:
			m.State, m.Action, m.Message, m.NextAttempt = placer.Evicted, placer.Record, "", time.Time{}
			evs = append(evs, placer.Eviction{Time: now, Workload: w.Key, Pod: m.Pod, UID: m.UID, Kind: m.Kind})
			accepted++
			rep.Evicted++
			evictionsTotal.WithLabelValues(OutcomeEvicted, string(m.Kind)).Inc()
			movesDone.WithLabelValues(string(m.Kind)).Inc()
			e.event(d, podRef(w.Key.Namespace, m), corev1.EventTypeNormal, "Evicted", "%s", m)
		case apierrors.IsTooManyRequests(err):
			m.Attempts++
			m.State, m.Action = placer.Blocked, placer.Wait
			m.NextAttempt = now.Add(placer.Backoff(m.Attempts, ps.BackoffBase, ps.BackoffMax))
			m.Message = fmt.Sprintf("eviction refused (attempt %d, next %s): %v", m.Attempts, m.NextAttempt.UTC().Format(time.RFC3339), err)
			rep.Blocked++
			evictionsTotal.WithLabelValues(OutcomeBlocked, string(m.Kind)).Inc()
			e.event(d, podRef(w.Key.Namespace, m), corev1.EventTypeWarning, "EvictionBlocked", "%s/%s: %s", w.Key.Namespace, m.Pod, m.Message)
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			// Gone, or a new pod of the same name (the UID precondition
			// failed): there is nothing of this move left to do.
			dropped[i] = true
			rep.Dropped++
			evictionsTotal.WithLabelValues(OutcomeDropped, string(m.Kind)).Inc()
			e.event(d, podRef(w.Key.Namespace, m), corev1.EventTypeNormal, "MoveDropped", "%s/%s (UID %s) is gone or was replaced: %v", w.Key.Namespace, m.Pod, m.UID, err)
		default:
			m.State, m.Action, m.Message = placer.Planned, placer.Wait, "eviction failed: "+err.Error()
			evictionsTotal.WithLabelValues(OutcomeFailed, string(m.Kind)).Inc()
			errs = append(errs, fmt.Errorf("evicting %s/%s: %w", w.Key.Namespace, m.Pod, err))
		}
	}
	for i, m := range moves {
		if !dropped[i] {
			keep = append(keep, m)
		}
	}
	countStates(states, keep)
	if _, err := e.write(ctx, d, keep, evs, now, false); err != nil {
		// The evictions happened; the next plan finds the Evicting moves
		// and their terminating pods and counts them.
		errs = append(errs, fmt.Errorf("recording the evictions made (the next plan recovers them from the pods): %w", err))
	} else {
		rep.Written++
	}
	return accepted, errors.Join(errs...)
}

// evict asks the Eviction API to evict the pod with that name and UID.
func (e *Executor) evict(ctx context.Context, ns, name string, uid types.UID) error {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	ev := &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Namespace: ns, Name: name},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}},
	}
	return e.Client.SubResource("eviction").Create(ctx, pod, ev)
}

// write sets the Decision's placement record; locked writes fail on any
// change since d was read.
func (e *Executor) write(ctx context.Context, d *v1alpha1.Decision, moves []placer.Move, evs []placer.Eviction, now time.Time, locked bool) (*v1alpha1.Decision, error) {
	next := d.DeepCopy()
	p := &v1alpha1.PlacementStatus{}
	if d.Status.Placement != nil {
		p.Outlook, p.Conditions = d.Status.Placement.Outlook, d.Status.Placement.Conditions
	}
	dryRun := e.Settings.DryRun
	p.DryRun = dryRun
	p.Summary = summary(moves, dryRun)
	t := metav1.NewTime(now)
	p.LastPlanTime = &t
	for _, m := range moves {
		p.Moves = append(p.Moves, toAPI(m))
	}
	for _, ev := range evs {
		p.Evictions = append(p.Evictions, v1alpha1.EvictionRecord{Time: metav1.NewTime(ev.Time), Pod: ev.Pod, UID: ev.UID, Kind: string(ev.Kind)})
	}
	next.Status.Placement = p
	var patch client.Patch = client.MergeFrom(d)
	if locked {
		patch = client.MergeFromWithOptions(d, client.MergeFromWithOptimisticLock{})
	}
	if err := e.Client.Status().Patch(ctx, next, patch); err != nil {
		return d, err
	}
	return next, nil
}

// event records an Event on the Decision with the move's pod as its
// related object. The pod is what tells two moves' Events apart: the
// events recorder folds Events of the same regarding object, reason,
// action and related object within 6 minutes into one series, keeping
// only the first note, so without it a round evicting several pods of a
// workload left one Evicted Event naming one pod (series count 2, the
// other pod's name lost), found on the demo cluster.
func (e *Executor) event(d *v1alpha1.Decision, pod *corev1.Pod, typ, reason, note string, args ...any) {
	if e.Recorder != nil {
		e.Recorder.Eventf(d, pod, typ, reason, "Evict", note, args...)
	}
}

// podRef is the move's pod as an Event's related object.
func podRef(namespace string, m *placer.Move) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: m.Pod, UID: m.UID}}
}

// dedupe drops repeated evictions of one UID, keeping the first.
func dedupe(evs []placer.Eviction) []placer.Eviction {
	seen := map[types.UID]bool{}
	var out []placer.Eviction
	for _, e := range evs {
		if !seen[e.UID] {
			seen[e.UID] = true
			out = append(out, e)
		}
	}
	return out
}

// countStates adds the moves' states to states (the moves gauge).
func countStates(states map[placer.State]int, moves []placer.Move) {
	for _, m := range moves {
		states[m.State]++
	}
}
