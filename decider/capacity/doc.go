// Package capacity is trimtab's one capacity rule: it turns a workload's
// capacity policy (a pinned type, or an on-demand base with the rest on
// spot) and the spot outlook into a Split; a Split plus the workload's live
// pod counts into the next pod's Placement (a StatefulSet's pod: by its
// ordinal, PlaceOrdinal); and a Split plus a census of the live pods into
// their Drift from it. The mutating webhook asks it for every pod, the
// validating webhook's warnings ask it what a policy will do, and the
// Decision resource carries its Split and Drift; nothing else decides where
// pods run. It is pure: plain values in, a value with its reason out.
//
// The class of a workload does not enter the rule: it only sets the default
// on-demand base (config.DefaultOnDemandBase) and which pods the placer may
// move. A pinned type is honoured as written, so `class: critical` with
// `capacity: spot` runs on spot alone, as docs/policy.md says; the validating
// webhook warns about it.
package capacity
