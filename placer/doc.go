// Package placer moves batch pods off spot capacity ahead of predicted price
// spikes and back after they pass. It plans moves as a pure function of a
// cluster snapshot, prices and policy, simulating where each pod would land
// under kube-scheduler's filter rules, then evicts through the Eviction API
// within PodDisruptionBudgets and a rate budget.
package placer
