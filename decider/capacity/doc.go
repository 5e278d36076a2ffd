// Package capacity chooses where a workload's pods run: spot, on-demand, or a
// split (an on-demand base, the rest on spot), from the workload's class and
// policy, the current prices and the spike forecast. It is pure: Decide takes
// plain values and returns a Decision with the reason for it.
//
// Rules, in order: capacity on-demand is honoured; spot that costs as much
// as on-demand is never chosen; critical workloads always keep at least one
// on-demand pod (never spot alone, whatever the policy says); batch workloads
// follow the forecast (all on-demand while the forecaster has them off spot);
// standard and critical workloads keep their base and move the spot part to
// on-demand while a spike is forecast. A forecast that is on hold (stale or
// missing prices) keeps the forecaster's last placement, so nothing moves on
// data that cannot be trusted.
package capacity
