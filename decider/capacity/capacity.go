package capacity

import (
	"fmt"
)

// Type is a kind of node capacity: spot or on-demand.
type Type string

// Capacity types.
const (
	Spot     Type = "spot"
	OnDemand Type = "on-demand"
)

// Rule is a workload's capacity policy in the decider's terms.
type Rule struct {
	// Pin, when set, puts every pod on that capacity type whatever the
	// outlook: the owner chose it. Empty lets trimtab choose (capacity auto).
	Pin Type
	// OnDemandBase is how many pods run on on-demand before the rest go to
	// spot; used only when Pin is empty.
	OnDemandBase int32
}

// Outlook is what the decision knows of the spot market the workload runs
// in: whether spot is worth running on now, and why not. The zero value is
// "nothing against spot" (no prices, or prices that give no reason to
// leave).
type Outlook struct {
	// OffSpot says spot should not take new pods now.
	OffSpot bool
	// Reason says why, in words, e.g. "spot 0.31 is not cheaper than
	// on-demand 0.21".
	Reason string
}

// Split is where a workload's pods run: the first OnDemandBase pods on
// on-demand nodes (required, so the base survives a spot reclaim), the rest
// on Rest — required when the owner pinned it or the outlook rules spot out,
// preferred otherwise (the scheduler may fall back to on-demand rather than
// leave a pod Pending). It is a plain value, so it can be stored on a
// Decision and read back by the webhook.
type Split struct {
	OnDemandBase int32
	Rest         Type
	RestRequired bool
	// Reason says why the split is what it is.
	Reason string
}

// Decide is the one capacity rule: it turns a workload's rule and the spot
// outlook into its Split. In order:
//
//   - a pinned capacity type is honoured, whatever the class or the outlook:
//     the owner chose it (the validating webhook warns about risky pins, such
//     as a critical workload on spot alone);
//   - an outlook against spot (a forecast spike, spot not cheaper than
//     on-demand) puts every pod on on-demand;
//   - otherwise the on-demand base, the rest preferably on spot.
//
// It returns an error only for a rule that is not one (a negative base, an
// unknown pin).
func Decide(r Rule, o Outlook) (Split, error) {
	if r.OnDemandBase < 0 {
		return Split{}, fmt.Errorf("on-demand base %d: want a whole number ≥ 0", r.OnDemandBase)
	}
	switch r.Pin {
	case OnDemand, Spot:
		return Split{Rest: r.Pin, RestRequired: true, Reason: "policy capacity " + string(r.Pin)}, nil
	case "":
	default:
		return Split{}, fmt.Errorf("capacity %q: want %q, %q or empty (trimtab chooses)", r.Pin, Spot, OnDemand)
	}
	if o.OffSpot {
		return Split{OnDemandBase: r.OnDemandBase, Rest: OnDemand, RestRequired: true, Reason: "off spot: " + o.Reason}, nil
	}
	return Split{OnDemandBase: r.OnDemandBase, Rest: Spot, Reason: "spot preferred"}, nil
}

// Counts is how many of a workload's live pods run on each capacity type.
type Counts struct {
	OnDemand, Spot int
}

// Add counts one more pod of type t.
func (c *Counts) Add(t Type) {
	switch t {
	case OnDemand:
		c.OnDemand++
	case Spot:
		c.Spot++
	}
}

// Remove counts one pod of type t less.
func (c *Counts) Remove(t Type) {
	switch t {
	case OnDemand:
		c.OnDemand--
	case Spot:
		c.Spot--
	}
}

// Placement is where one pod goes and why.
type Placement struct {
	Type Type
	// Required says the pod must run on Type; otherwise it prefers it.
	Required bool
	// Base says the pod fills the on-demand base: on a scale-in it should
	// be the last to go, so the base outlives the spot pods.
	Base   bool
	Reason string
}

// Place is the placement of the next pod of a workload whose live pods are
// counted in c: on-demand while the base is short, Rest after.
func (s Split) Place(c Counts) Placement {
	if s.RestRequired && s.OnDemandBase == 0 {
		return Placement{Type: s.Rest, Required: true, Reason: s.Reason}
	}
	if c.OnDemand < int(s.OnDemandBase) {
		return Placement{Type: OnDemand, Required: true, Base: true,
			Reason: fmt.Sprintf("on-demand base %d, %d placed before this pod", s.OnDemandBase, c.OnDemand)}
	}
	switch {
	case s.OnDemandBase == 0:
		return Placement{Type: s.Rest, Required: s.RestRequired, Reason: "capacity auto with no on-demand base, " + s.Reason}
	case s.Rest == Spot && !s.RestRequired:
		return Placement{Type: Spot, Reason: fmt.Sprintf("on-demand base %d filled, spot preferred for the rest", s.OnDemandBase)}
	}
	return Placement{Type: s.Rest, Required: s.RestRequired, Reason: fmt.Sprintf("on-demand base %d filled; %s", s.OnDemandBase, s.Reason)}
}

// Of divides n pods between the two capacity types as Place would, one
// after another.
func (s Split) Of(n int32) (onDemand, spot int32) {
	base := min(s.OnDemandBase, n)
	if s.Rest == OnDemand {
		return n, 0
	}
	return base, n - base
}

// String prints the split as "on-demand base 2, the rest on spot
// (preferred): reason".
func (s Split) String() string {
	how := "preferred"
	if s.RestRequired {
		how = "required"
	}
	return fmt.Sprintf("on-demand base %d, the rest on %s (%s): %s", s.OnDemandBase, s.Rest, how, s.Reason)
}
