// Package placer decides which batch pods move off spot capacity and back,
// and why. It is pure: Plan takes a snapshot of the cluster (nodes, pods,
// PodDisruptionBudgets, the opted-in workloads with their policy, split
// and last plan), the state of each spot market (from the spike
// forecaster) and the operator's settings, and returns the moves with a
// reason each, and the pods it considered and left, with a reason each.
// The placement controller (controllers/placement) gathers the inputs,
// records the plan on the workloads' Decisions and evicts.
//
// What moves, in the order a plan considers it:
//
//   - Interruption: batch pods on a node carrying an interruption or
//     rebalance signal (a configured taint or condition), once.
//   - MoveOut: batch pods on spot nodes of a market the forecaster has off
//     spot, never on stale prices, once the workload's Decision sends new
//     pods to on-demand.
//   - MoveBack: batch pods on on-demand beyond the workload's on-demand
//     base, once its Decision prefers spot again (the forecaster's
//     hysteresis has decided the spike has passed) and only where the
//     simulation lands the replacement on spot.
//   - BaseShortfall: spot pods of a workload running fewer pods on
//     on-demand than its base (pods admitted while trimtab was down).
//
// Every move is simulated with placer/fit (kube-scheduler's rules) before
// it is allowed, and allowed only within the workload's and the cluster's
// eviction budgets and after a refused eviction's backoff. Pods of critical
// or standard workloads are never moved, nor a pod no controller would
// replace (Movable).
package placer
