package placer

import (
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/placer/fit"
	"github.com/trimtab-dev/trimtab/prices"
)

// Input is everything one plan reads.
type Input struct {
	Now      time.Time
	Settings config.Settings
	Placer   config.PlacerSettings
	// Product is the markets' product description (prices.ProductLinux).
	Product string
	// Cluster is the cluster to simulate replacements in: every node and
	// every pod, not only the workloads'.
	Cluster fit.Snapshot
	// Markets is each priced spot market's state.
	Markets map[prices.Market]MarketState
	// Workloads are the opted-in workloads.
	Workloads []Workload
	// Evictions are the placer's evictions of every workload within the
	// cluster budget's window.
	Evictions []Eviction
}

// Workload is one opted-in workload as the plan sees it.
type Workload struct {
	Key    Key
	Class  config.Class
	Inputs config.Inputs
	// PolicyErr is set when the workload's policy does not parse; nothing
	// of it is moved.
	PolicyErr error
	// Split is the split the webhook stamps on its new pods now (its
	// Decision's capacity), and SplitSince when the Decision began showing
	// it.
	Split      capacity.Split
	SplitSince time.Time
	// Outlook is its spot outlook (OutlookOf its Exposure).
	Outlook WorkloadOutlook
	// Pods are its pods, as listed (finished and terminating ones
	// included: they tell the plan an eviction went through).
	Pods []*corev1.Pod
	// Prior is its last plan and Evictions its evictions within the
	// workload budget's window, from its Decision.
	Prior     []Move
	Evictions []Eviction

	// Jobs are the Jobs whose pods these are, for a Job (itself) or a
	// CronJob (its Jobs): a Job's pod moves only within its Job's
	// retries (jobs.go).
	Jobs []*batchv1.Job
}

// Result is a plan.
type Result struct {
	// Plans is each workload's new plan (an empty plan for a workload
	// with nothing to move), in Input order of workloads.
	Plans map[Key][]Move
	// Skips are the pods the plan looked at and left, with the reason.
	Skips []Skip
	// Done are evictions that went through and are not recorded yet (a
	// move found Evicting whose pod is now terminating or gone).
	Done []Eviction
}

// Evictions returns the moves to evict now, in plan order.
func (r Result) Evictions() []Move {
	var out []Move
	for _, ms := range r.Plans {
		for _, m := range ms {
			if m.Action == Evict {
				out = append(out, m)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Workload.String()+"/"+out[i].Pod < out[j].Workload.String()+"/"+out[j].Pod
	})
	return out
}

// Plan decides, for every workload, which pods move now, which wait and
// for what, and which stay and why (see the package documentation). It
// never moves a pod it has evicted before (by UID), a pod of a workload
// that is not batch, or a pod whose replacement the simulation cannot
// land where the workload's split sends it (unless AllowPending).
func Plan(in Input) Result {
	p := &planner{in: in, nodes: Nodes(in.Cluster.Nodes, in.Settings, in.Placer, in.Product), res: Result{Plans: map[Key][]Move{}}}
	p.clusterUsed = countSince(in.Evictions, in.Now, in.Placer.ClusterBudget.Per)
	ws := append([]Workload(nil), in.Workloads...)
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].Key.String() < ws[j].Key.String() })
	for i := range ws {
		p.res.Plans[ws[i].Key] = p.workload(&ws[i])
	}
	return p.res
}

type planner struct {
	in          Input
	nodes       map[string]*NodeInfo
	sim         *fit.Cluster
	clusterUsed int
	res         Result
	// jobPlanned counts the moves planned per Job this round (jobs.go).
	jobPlanned map[types.UID]int
}

func (p *planner) skip(w *Workload, pod *corev1.Pod, format string, args ...any) {
	p.res.Skips = append(p.res.Skips, Skip{Workload: w.Key, Pod: pod.Name, Node: pod.Spec.NodeName, Reason: fmt.Sprintf(format, args...)})
}

// workload plans one workload.
func (p *planner) workload(w *Workload) []Move {
	now := p.in.Now
	byUID := map[types.UID]*corev1.Pod{}
	for _, pod := range w.Pods {
		byUID[pod.UID] = pod
	}
	evicted := map[types.UID]bool{}
	for _, e := range w.Evictions {
		evicted[e.UID] = true
	}

	// What the last plan left: evictions that went through are recorded
	// and followed until their pod is gone; an eviction whose outcome is
	// unknown (the leader stopped) is decided by the pod itself. Only an
	// Evicting move is counted here: an Evicted one was counted when the
	// Eviction API accepted it, and its record may have left the budget
	// window while its pod still terminates (a long grace period, a stuck
	// finalizer) — counting it again would spend the budget on it every
	// window until the pod is gone.
	var kept []Move
	prior := map[types.UID]Move{}
	for _, m := range w.Prior {
		pod := byUID[m.UID]
		inFlight := m.State == Evicting || m.State == Evicted
		switch {
		case pod == nil || !live(pod):
			if m.State == Evicting && !evicted[m.UID] {
				p.res.Done = append(p.res.Done, Eviction{Time: now, Workload: w.Key, Pod: m.Pod, UID: m.UID, Kind: m.Kind})
				evicted[m.UID] = true
			}
			if pod != nil && inFlight {
				m.State, m.Action, m.Hold = Evicted, Record, ""
				kept = append(kept, m) // terminating: shown until gone
			}
		case m.State == Evicted || evicted[m.UID]:
			// Accepted and not yet terminating: never asked twice.
			m.State, m.Action = Evicted, Record
			evicted[m.UID] = true
			kept = append(kept, m)
		default:
			if m.State == Evicting {
				m.State = Planned // the pod is still there: the eviction did not happen
			}
			prior[m.UID] = m
		}
	}

	if w.PolicyErr != nil {
		return kept
	}
	// Moves to on-demand for the base whose pods are evicted but whose
	// replacements may not run yet: the shortfall counts them as made, or
	// the next round would move another pod for the same gap (and the base
	// would overshoot, and move back: churn).
	var inFlight []*corev1.Pod
	for _, m := range kept {
		if pod := byUID[m.UID]; m.Kind == BaseShortfall && m.State == Evicted && pod != nil {
			inFlight = append(inFlight, pod)
		}
	}
	cands := p.candidates(w, evicted, inFlight)
	moves := kept
	for _, c := range cands {
		if len(moves) >= p.in.Placer.MaxMoves {
			break
		}
		if m, ok := prior[c.UID]; ok && m.Kind == c.Kind {
			c.State, c.Attempts, c.NextAttempt, c.Message, c.PlannedAt = m.State, m.Attempts, m.NextAttempt, m.Message, m.PlannedAt
			if c.State == DryRun {
				c.State = Planned
			}
		}
		moves = append(moves, c)
	}
	p.gate(w, moves, byUID)
	sort.SliceStable(moves, func(i, j int) bool {
		if moves[i].Kind != moves[j].Kind {
			return kindOrder[moves[i].Kind] < kindOrder[moves[j].Kind]
		}
		return moves[i].Pod < moves[j].Pod
	})
	return moves
}

var kindOrder = map[Kind]int{Interruption: 0, MoveOut: 1, BaseShortfall: 2, MoveBack: 3}

// candidates lists the workload's pods that should move, each with its
// kind and reason, in order: interrupted nodes, off-spot markets, then the
// base (on-demand beyond it while spot is preferred, or short of it).
func (p *planner) candidates(w *Workload, evicted map[types.UID]bool, inFlight []*corev1.Pod) []Move {
	now := p.in.Now
	var pods []*corev1.Pod
	for _, pod := range w.Pods {
		if live(pod) && !evicted[pod.UID] {
			pods = append(pods, pod)
		}
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	move := func(pod *corev1.Pod, ni *NodeInfo, kind Kind, reason string) Move {
		m := Move{Workload: w.Key, Pod: pod.Name, UID: pod.UID, Node: pod.Spec.NodeName, Kind: kind, Reason: reason, State: Planned, PlannedAt: now}
		if ni != nil && ni.Priced && ni.Capacity == capacity.Spot {
			m.Market = ni.Market
		}
		return m
	}
	// movable is what every candidate must be, whatever its kind.
	movable := func(pod *corev1.Pod) bool {
		switch {
		case !w.Inputs.Evictable:
			p.skip(w, pod, "class %s: the placer moves only batch pods", w.Class)
		case userPlaced(pod):
			p.skip(w, pod, "the pod pins its capacity type itself: placement is its owner's")
		default:
			if err := Movable(pod); err != nil {
				p.skip(w, pod, "%v", err)
				return false
			}
			if why := p.jobHold(w, pod, evicted); why != "" {
				p.skipJob(w, pod, why)
				return false
			}
			return true
		}
		return false
	}
	var out []Move
	taken := map[types.UID]bool{}
	var onDemand, onSpot []*corev1.Pod
	for _, pod := range pods {
		ni := p.nodes[pod.Spec.NodeName]
		if ni == nil {
			continue // bound to a node not in the snapshot: nothing to say about it
		}
		switch {
		case ni.Interrupted != "":
			if movable(pod) {
				out = append(out, move(pod, ni, Interruption, fmt.Sprintf("node %s has %s: it is going away", ni.Node.Name, ni.Interrupted)))
				taken[pod.UID] = true
			}
			continue
		case ni.Capacity == capacity.Spot && !ni.Priced:
			if w.Outlook.OffSpot {
				p.skip(w, pod, "%s", ni.Problem)
			}
		case ni.Capacity == capacity.Spot:
			ms, ok := p.in.Markets[ni.Market]
			switch {
			case !ok || !ms.Off:
			case !ms.Fresh:
				p.skip(w, pod, "market %s is off spot but its prices are not fresh (%s): no move on stale data", ni.Market, ms.Reason)
			case w.Inputs.Capacity.Pin == capacity.Spot:
				p.skip(w, pod, "market %s is off spot, but the policy pins capacity spot: the owner's choice", ni.Market)
			default:
				if movable(pod) {
					out = append(out, move(pod, ni, MoveOut, ms.Reason))
					taken[pod.UID] = true
				}
				continue
			}
		}
		switch ni.Capacity {
		case capacity.OnDemand:
			onDemand = append(onDemand, pod)
		case capacity.Spot:
			onSpot = append(onSpot, pod)
		}
	}
	for _, g := range baseGroups(w, onDemand, onSpot, inFlight) {
		out = append(out, p.base(w, g, move, movable)...)
	}
	return out
}

// baseGroup is pods that share one on-demand base: the webhook's ledger
// keeps a base per revision of a workload's pods, and for a CronJob each Job
// is one (its Jobs may overlap, each with its own base pods). Every other
// workload's pods are one group here (a Deployment's rollout is brief).
type baseGroup struct {
	all, onDemand, onSpot, inFlight []*corev1.Pod
}

// baseRevision is the key of pod's base group in w: its Job's UID for a
// CronJob, "" otherwise.
func baseRevision(w *Workload, pod *corev1.Pod) types.UID {
	if w.Key.Kind != "CronJob" {
		return ""
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		return ref.UID
	}
	return ""
}

func baseGroups(w *Workload, onDemand, onSpot, inFlight []*corev1.Pod) []*baseGroup {
	if w.Key.Kind != "CronJob" {
		return []*baseGroup{{all: w.Pods, onDemand: onDemand, onSpot: onSpot, inFlight: inFlight}}
	}
	byRev := map[types.UID]*baseGroup{}
	var out []*baseGroup
	group := func(pod *corev1.Pod) *baseGroup {
		rev := baseRevision(w, pod)
		g := byRev[rev]
		if g == nil {
			g = &baseGroup{}
			byRev[rev] = g
			out = append(out, g)
		}
		return g
	}
	for _, pod := range w.Pods {
		group(pod).all = append(group(pod).all, pod)
	}
	for _, pod := range onDemand {
		group(pod).onDemand = append(group(pod).onDemand, pod)
	}
	for _, pod := range onSpot {
		group(pod).onSpot = append(group(pod).onSpot, pod)
	}
	for _, pod := range inFlight {
		group(pod).inFlight = append(group(pod).inFlight, pod)
	}
	return out
}

// base lists the moves that keep the workload's on-demand base, only for a
// split trimtab chooses (capacity auto):
//
//   - A shortfall (fewer than the base run on on-demand: pods admitted
//     while trimtab was down, a lost race) moves spot pods to on-demand
//     whatever the prices say: the policy asks for it, and no price makes
//     a pod on on-demand riskier, so stale or missing prices do not hold it.
//   - An excess (on-demand pods beyond the base: back after a spike, or
//     admitted there while trimtab was down) moves to spot only while the
//     split prefers spot and no market the workload uses is off spot or
//     not fresh: that move takes on spot's risk, so it waits for prices.
//     Without a price source there are no markets to be stale (the
//     controller gives such a workload an outlook with nothing against
//     spot), and the policy's split is the only signal — the same one the
//     webhook places new pods by — so the excess moves.
func (p *planner) base(w *Workload, g *baseGroup, move func(*corev1.Pod, *NodeInfo, Kind, string) Move, movable func(*corev1.Pod) bool) []Move {
	onDemand, onSpot, inFlight := g.onDemand, g.onSpot, g.inFlight
	s := w.Split
	if !w.Inputs.Evictable || w.Inputs.Capacity.Pin != "" || len(onDemand)+len(onSpot) == 0 {
		return nil
	}
	base := int(s.OnDemandBase)
	excess := s.Rest == capacity.Spot && len(onDemand) > base
	if excess && (!w.Outlook.Fresh() || w.Outlook.OffSpot) {
		why := fmt.Sprintf("the prices of the workload's markets are not fresh (%v): no move to spot on stale data", w.Outlook.Unfresh)
		if w.Outlook.OffSpot {
			why = fmt.Sprintf("market(s) %v the workload uses are off spot", w.Outlook.Markets)
		}
		for _, pod := range onDemand {
			p.skip(w, pod, "%d pod(s) on on-demand for a base of %d, but %s", len(onDemand), base, why)
		}
		return nil
	}
	var out []Move
	switch {
	case excess:
		// Take pods that are not the base's first, newest first.
		var extra, baseOnes []*corev1.Pod
		for _, pod := range onDemand {
			if d, ok := decisionOf(pod); ok && d.Base {
				baseOnes = append(baseOnes, pod)
			} else {
				extra = append(extra, pod)
			}
		}
		newestFirst(extra)
		newestFirst(baseOnes)
		order := append(extra, baseOnes...)
		why := fmt.Sprintf("spot is preferred again (%s) and %d pod(s) run on on-demand, %d more than the on-demand base of %d", s.Reason, len(onDemand), len(onDemand)-base, base)
		for _, pod := range order[:len(onDemand)-base] {
			if movable(pod) {
				out = append(out, move(pod, p.nodes[pod.Spec.NodeName], MoveBack, why))
			}
		}
	case base > len(onDemand):
		// The webhook counts the pods it placed on on-demand, running or
		// not yet bound (a replacement on its way).
		var placedPods []*corev1.Pod
		for _, pod := range g.all {
			if pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed &&
				pod.Labels[LabelPlacement] == string(capacity.OnDemand) {
				placedPods = append(placedPods, pod)
			}
		}
		placed := len(placedPods)
		short := base - len(onDemand)
		if placed >= base {
			for _, pod := range onSpot {
				p.skip(w, pod, "%d pod(s) on on-demand for a base of %d, but the webhook counts %d placed there already: a replacement would go to spot again", len(onDemand), base, placed)
			}
			return nil
		}
		// An evicted pod whose replacement the webhook has placed is
		// counted once, as that replacement.
		waiting := unreplaced(inFlight, placedPods)
		short = min(short, base-placed-waiting)
		if short <= 0 {
			for _, pod := range onSpot {
				p.skip(w, pod, "%d pod(s) on on-demand for a base of %d, and %d moved there are on their way", len(onDemand), base, waiting)
			}
			return nil
		}
		newestFirst(onSpot)
		why := fmt.Sprintf("%d pod(s) run on on-demand for an on-demand base of %d (pods admitted while trimtab was down, or a lost race)", len(onDemand), base)
		for _, pod := range onSpot {
			if len(out) == short {
				break
			}
			if movable(pod) {
				out = append(out, move(pod, p.nodes[pod.Spec.NodeName], BaseShortfall, why))
			}
		}
	}
	return out
}

// unreplaced counts the pods evicted for the base (inFlight) whose
// replacement is not among the pods the webhook placed on on-demand: a
// replacement is created once its pod is terminating, so each placed pod
// created at or after an evicted pod's deletion may be its replacement
// (matched earliest first, each once). An evicted pod not terminating yet
// has none.
func unreplaced(inFlight, placed []*corev1.Pod) int {
	var gone []time.Time
	for _, pod := range inFlight {
		if pod.DeletionTimestamp != nil {
			gone = append(gone, pod.DeletionTimestamp.Time)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].Before(gone[j]) })
	created := make([]time.Time, 0, len(placed))
	for _, pod := range placed {
		created = append(created, pod.CreationTimestamp.Time)
	}
	sort.Slice(created, func(i, j int) bool { return created[i].Before(created[j]) })
	n, j := len(inFlight), 0
	for _, g := range gone {
		for j < len(created) && created[j].Before(g) {
			j++
		}
		if j == len(created) {
			break
		}
		n-- // created[j] replaces the pod gone at g
		j++
	}
	return n
}

// gate decides each planned move's action now: the mode, the split the
// webhook stamps, the settle time, the backoff, the budgets and, last, the
// simulation of where the replacement lands.
func (p *planner) gate(w *Workload, moves []Move, byUID map[types.UID]*corev1.Pod) {
	now, ps := p.in.Now, p.in.Placer
	workloadUsed := countSince(w.Evictions, now, ps.WorkloadBudget.Per)
	record := ps.DryRun || !w.Inputs.Enforce
	// Where a replacement lands depends on its base group's counts (the
	// webhook's ledger keeps one per revision: a CronJob's Job).
	counts := map[types.UID]*podCounts{}
	for _, pod := range w.Pods {
		rev := baseRevision(w, pod)
		if counts[rev] == nil {
			counts[rev] = &podCounts{}
		}
		if live(pod) {
			counts[rev].add(capacity.Type(pod.Labels[LabelPlacement]))
		}
	}
	for i := range moves {
		m := &moves[i]
		if m.State == Evicted {
			continue
		}
		m.Action, m.Hold, m.Lands = Wait, "", ""
		pod := byUID[m.UID]
		switch {
		case !splitSends(w.Split, m.Kind):
			m.Hold = fmt.Sprintf("the Decision does not send new pods where this move needs them yet (its capacity: %s)", w.Split)
			continue
		case m.Kind != Interruption && now.Before(w.SplitSince.Add(ps.Settle)):
			// An interruption move needs no new split (the node is going
			// away whatever the split says), so it does not wait for one.
			m.Hold = fmt.Sprintf("the Decision's capacity changed at %s; evicting from %s, once every webhook has it", w.SplitSince.UTC().Format(time.RFC3339), w.SplitSince.Add(ps.Settle).UTC().Format(time.RFC3339))
			continue
		case !record && m.NextAttempt.After(now):
			m.Hold = fmt.Sprintf("backing off after %d refused eviction(s) until %s", m.Attempts, m.NextAttempt.UTC().Format(time.RFC3339))
			continue
		case !record && workloadUsed >= ps.WorkloadBudget.Evictions:
			m.Hold = fmt.Sprintf("workload budget spent: %d eviction(s) in the last %v (budget %s)", workloadUsed, ps.WorkloadBudget.Per, ps.WorkloadBudget)
			continue
		case !record && p.clusterUsed >= ps.ClusterBudget.Evictions:
			m.Hold = fmt.Sprintf("cluster budget spent: %d eviction(s) in the last %v (budget %s)", p.clusterUsed, ps.ClusterBudget.Per, ps.ClusterBudget)
			continue
		}
		self := capacity.Type(pod.Labels[LabelPlacement])
		c := counts[baseRevision(w, pod)]
		c.remove(self)
		pl := w.Split.Place(c.Counts)
		lands, ok := p.simulate(pod, pl, m.Kind)
		m.Lands = lands
		if !ok {
			c.add(self)
			m.Hold = "the replacement " + lands
			continue
		}
		c.add(pl.Type)
		if record {
			m.State, m.Action = DryRun, Record
			continue
		}
		m.Action = Evict
		workloadUsed++
		p.clusterUsed++
	}
}

// splitSends says whether the webhook, stamping split, places a
// replacement where a move of kind needs it: on-demand after a move out,
// spot preferred for a move back.
func splitSends(s capacity.Split, k Kind) bool {
	switch k {
	case MoveOut:
		return s.Rest == capacity.OnDemand && s.RestRequired
	case MoveBack:
		return s.Rest == capacity.Spot
	}
	return true
}

// simulate places pod's replacement, stamped for pl, in the simulation
// and says where it lands; ok is false when it lands nowhere (and pending
// is not allowed) or somewhere the move must not send it, and then the
// simulation is left as it was.
func (p *planner) simulate(pod *corev1.Pod, pl capacity.Placement, kind Kind) (lands string, ok bool) {
	if p.sim == nil {
		p.sim = fit.New(p.in.Cluster)
	}
	from := pod.Spec.NodeName
	r := Replacement(pod, pl, p.in.Settings)
	res := p.sim.Place(r)
	undo := func() {
		p.sim.Remove(pod.Namespace, pod.Name)
		_ = p.sim.Bind(pod, from)
	}
	if !res.Scheduled() {
		if p.in.Placer.AllowPending {
			return "lands on no node now (" + res.Message() + "); pending until a node provisioner adds one (allowPending)", true
		}
		undo()
		return "would not fit: " + res.Message(), false
	}
	ni := p.nodes[res.Node]
	where := fmt.Sprintf("%s node %s", ni.Capacity, res.Node)
	if ni.Capacity == "" {
		where = "node " + res.Node
	}
	var bad string
	switch {
	case ni.Interrupted != "":
		bad = fmt.Sprintf("would land on %s, which has %s", where, ni.Interrupted)
	case ni.Capacity == capacity.Spot && ni.Priced && p.in.Markets[ni.Market].Off:
		bad = fmt.Sprintf("would land on %s, in market %s which is off spot", where, ni.Market)
	case kind == MoveBack && ni.Capacity != capacity.Spot:
		bad = fmt.Sprintf("would land on %s again", where)
	case kind == BaseShortfall && ni.Capacity != capacity.OnDemand:
		bad = fmt.Sprintf("would land on %s, not on on-demand", where)
	}
	if bad != "" {
		undo()
		if kind == MoveBack && ni.Capacity != capacity.Spot {
			bad += ": " + p.whyNotSpot(pod)
		}
		return bad, false
	}
	return "lands on " + where, true
}

// whyNotSpot says why a move back's replacement would not land on spot:
// what kube-scheduler would say of it required on spot (no room, an
// untolerated taint such as an interruption, node selection), or, when a
// spot node would take it, that the scheduler prefers another node. It
// binds nothing. Before, the plan said "no spot node has room" whatever
// the cause, also when the only spot node carried an interruption taint.
func (p *planner) whyNotSpot(pod *corev1.Pod) string {
	res, _ := p.sim.Explain(Replacement(pod, capacity.Placement{Type: capacity.Spot, Required: true}, p.in.Settings))
	if res.Scheduled() {
		return fmt.Sprintf("spot node %s would take it, but kube-scheduler scores another node higher", res.Node)
	}
	return "no spot node takes it: " + res.Message()
}

// podCounts counts the live pods the webhook placed, by placement.
type podCounts struct{ capacity.Counts }

func (c *podCounts) add(t capacity.Type) { c.Add(t) }

func (c *podCounts) remove(t capacity.Type) {
	switch t {
	case capacity.OnDemand:
		c.OnDemand--
	case capacity.Spot:
		c.Spot--
	}
}

// countSince counts the evictions within per before now.
func countSince(evs []Eviction, now time.Time, per time.Duration) int {
	n := 0
	for _, e := range evs {
		if now.Sub(e.Time) < per {
			n++
		}
	}
	return n
}

// Backoff is how long to wait after the attempts-th refused eviction:
// base doubled per attempt, at most max.
func Backoff(attempts int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
