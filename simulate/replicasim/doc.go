// Package replicasim runs a recorded traffic trace through trimtab's replica
// decider and through the baselines it replaces — the HPA algorithm with
// upstream default behavior, an HPA whose target is searched down until it
// overloads no more than trimtab ("hpa-matched"), and a static peak — with
// the same per-pod capacity, target utilization, pod start-up delay and
// evaluation window, and scores each strategy. It is what
// `trimtab simulate replicas` prints; the pure decisions live in
// decider/replicas and its sub-packages.
package replicasim
