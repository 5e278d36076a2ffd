// Package decider computes trimtab's targets: replicas per workload (a
// short-horizon seasonal forecast, the HPA-compatible reactive path and the
// policy floor, guarded by downstream health), requests per container (decaying
// usage histograms and a memory-leak trend) and the capacity type (spot,
// on-demand or a split). Its core is pure: inputs are plain values and time is
// passed in, so every decision can be replayed offline by `trimtab simulate`
// and explained by the reason it carries.
package decider
