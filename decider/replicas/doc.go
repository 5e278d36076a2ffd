// Package replicas is trimtab's replica decision for one workload:
// max(proactive, reactive, floor), clamped by policy, rate-limited and
// stabilized like the HPA, and guarded by downstream health, with a reason
// chain for every number.
//
//   - proactive: a seasonal forecast (package forecast) of the workload's
//     load signal; replicas so that the forecast's upper quantile over the
//     next start-up delay + horizon stays under the target utilization of
//     ready capacity. Cold (under a day of history, or no period found):
//     none, and the reactive path decides alone.
//   - reactive: the HPA algorithm (package hpa) over the same metrics the
//     HPA would read, upstream-compatible.
//   - floor: policy minimum, raised by cron windows in their time zone.
//   - guard: while a downstream signal (e.g. database p95) is over its
//     limit, scale-out is blocked and, if it stays over, replicas step down
//     gradually; it clears only after the signal stays under a lower mark.
//
// Decide is pure: it takes the policy, the workload's state and the inputs
// (with the time), and returns a Decision; it never reads a clock or a client.
// State.MarshalBinary and RestoreState carry that state (the learned
// forecast, the HPA's windows, the guard) across a restart or a leader
// change, in about 8 KiB a workload.
package replicas
