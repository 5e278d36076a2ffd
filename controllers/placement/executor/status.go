package executor

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/prices"
)

// FromStatus reads a Decision's placement record back into the plan's
// terms: the last plan (placer.Workload.Prior) and the evictions made
// (placer.Workload.Evictions, and the cluster's when gathered over every
// Decision). product is the markets' product description.
func FromStatus(d *v1alpha1.Decision, product string) ([]placer.Move, []placer.Eviction) {
	p := d.Status.Placement
	if p == nil {
		return nil, nil
	}
	key := keyOf(d)
	var moves []placer.Move
	for _, m := range p.Moves {
		mv := placer.Move{Workload: key, Pod: m.Pod, UID: m.UID, Node: m.Node, Market: parseMarket(m.Market, product),
			Kind: placer.Kind(m.Kind), Reason: m.Reason, State: placer.State(m.State), Attempts: int(m.Attempts),
			Message: m.Message, PlannedAt: m.PlannedAt.Time}
		if m.NextAttempt != nil {
			mv.NextAttempt = m.NextAttempt.Time
		}
		moves = append(moves, mv)
	}
	var evs []placer.Eviction
	for _, e := range p.Evictions {
		evs = append(evs, placer.Eviction{Time: e.Time.Time, Workload: key, Pod: e.Pod, UID: e.UID, Kind: placer.Kind(e.Kind)})
	}
	return moves, evs
}

func keyOf(d *v1alpha1.Decision) placer.Key {
	return placer.Key{Namespace: d.Namespace, Kind: d.Spec.WorkloadRef.Kind, Name: d.Spec.WorkloadRef.Name}
}

// marketString is the Decision's spelling of a market: instance-type/zone.
func marketString(m prices.Market) string {
	if m == (prices.Market{}) {
		return ""
	}
	return m.InstanceType + "/" + m.Zone
}

func parseMarket(s, product string) prices.Market {
	typ, zone, ok := strings.Cut(s, "/")
	if !ok {
		return prices.Market{}
	}
	return prices.Market{InstanceType: typ, Zone: zone, Product: product}
}

// toAPI is a move as the Decision records it; a move held this round
// carries what holds it as its message, unless the Eviction API's last
// answer says more.
func toAPI(m placer.Move) v1alpha1.PodMove {
	out := v1alpha1.PodMove{Pod: m.Pod, UID: m.UID, Node: m.Node, Market: marketString(m.Market), Kind: string(m.Kind),
		Reason: m.Reason, State: string(m.State), Attempts: int32(m.Attempts), Message: m.Message, PlannedAt: metav1.NewTime(m.PlannedAt)}
	if m.Lands != "" {
		out.Reason += "; replacement " + m.Lands
	}
	if !m.NextAttempt.IsZero() {
		t := metav1.NewTime(m.NextAttempt)
		out.NextAttempt = &t
	}
	if m.Action == placer.Wait && m.Hold != "" && (m.State == placer.Planned || out.Message == "") {
		out.Message = "waiting: " + m.Hold
	}
	return out
}

// summary says the plan in a few words, e.g. "3 move(s): 1 evicted, 1
// blocked, 1 planned".
func summary(moves []placer.Move, dryRun bool) string {
	if len(moves) == 0 {
		return ""
	}
	counts := map[placer.State]int{}
	for _, m := range moves {
		counts[m.State]++
	}
	var parts []string
	for _, s := range []placer.State{placer.Evicting, placer.Evicted, placer.Blocked, placer.Planned, placer.DryRun} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], strings.ToLower(string(s))))
		}
	}
	s := fmt.Sprintf("%d move(s): %s", len(moves), strings.Join(parts, ", "))
	if dryRun {
		s += " (dry run)"
	}
	return s
}

// window keeps the evictions the budgets still count at now.
func window(evs []placer.Eviction, now time.Time, per time.Duration) []placer.Eviction {
	var out []placer.Eviction
	for _, e := range evs {
		if now.Sub(e.Time) < per {
			out = append(out, e)
		}
	}
	return out
}
