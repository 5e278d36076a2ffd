// Package decision is the live loop of trimtab's replica decisions: a
// leader-elected controller that, every Period (15 s, like the HPA), reads
// each opted-in Deployment's and StatefulSet's signals from Prometheus, runs
// decider/replicas with the inputs config.Policy.Inputs gives, records the
// result on the workload's Decision (api/v1alpha1), and in enforce mode sets
// the workload's replicas through its scale subresource.
//
// One sync handles every workload together, so the Prometheus reads batch
// (one instant request for many workloads' expressions, one for the CPU of
// every namespace; signals/prometheus) and the apiserver writes are only the
// changes: a Decision's status is written when it changed, or when its
// freshness fields are older than StatusRefresh.
//
// The rules a user relies on:
//
//   - Missing data never scales: a query error, an empty or stale result
//     holds the last decision, with SignalsFresh=False, an Event and a
//     metric; the decision resumes when the signals return.
//   - Enforce never fights an HPA: when an HPA already scales the workload,
//     trimtab refuses (AbleToScale=False, an Event naming it) and records;
//     in shadow mode it compares the two over a trailing window.
//   - A workload first seen is warm-started from a week of its load's
//     history (one range query, chunked), or restored from its
//     DecisionCheckpoint, so forecasts start in the first minute, not after a
//     week; the checkpoint is saved every CheckpointEvery.
//
// Time comes from an injected clock; Sync is one pass and can be driven by a
// test or a benchmark directly.
package decision
