package capacity

import "fmt"

// PlaceOrdinal is the placement of a StatefulSet's pod by its ordinal,
// counted from the StatefulSet's first ordinal (spec.ordinals.start): the
// first OnDemandBase ordinals are the base.
//
// A StatefulSet needs no count. It scales in from its highest ordinal and
// replaces a pod under the same ordinal (a rolling update, an eviction), so
// its lowest ordinals are exactly the pods that exist at every scale: giving
// them the base keeps it through scale-in, scale-out and rollouts, and two
// webhook replicas placing pods of one StatefulSet at once agree without
// talking to each other.
func (s Split) PlaceOrdinal(ordinal int) Placement {
	if s.RestRequired && s.OnDemandBase == 0 {
		return Placement{Type: s.Rest, Required: true, Reason: s.Reason}
	}
	if ordinal < int(s.OnDemandBase) {
		return Placement{Type: OnDemand, Required: true, Base: true,
			Reason: fmt.Sprintf("on-demand base %d: ordinal %d", s.OnDemandBase, ordinal)}
	}
	// Beyond the base the rule is Place's with the base filled.
	p := s.Place(Counts{OnDemand: int(s.OnDemandBase)})
	if s.OnDemandBase > 0 {
		p.Reason = fmt.Sprintf("ordinal %d, past the base; %s", ordinal, p.Reason)
	}
	return p
}
