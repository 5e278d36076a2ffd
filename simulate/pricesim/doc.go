// Package pricesim is the core of `trimtab simulate prices`: it replays
// recorded spot price history for a batch workload through trimtab's spike
// forecaster and three baselines (always-spot, always-on-demand and a
// reactive mover) and measures cost, interruptions, moves, spikes caught, the
// lead before each spike and false moves.
//
// The model, stated once so every number can be checked by hand:
//   - N pods run continuously; each pod-hour costs the spot price while on
//     spot and the on-demand price while off it.
//   - Spot capacity is bid at the on-demand price (the 2015 market's rule):
//     when the price rises above it, pods on spot are interrupted, lose
//     min(LostWork, JobLength) of progress (re-run at the on-demand price) and
//     fall back to on-demand.
//   - A planned move (either direction) costs MoveLoss of progress per pod,
//     less than an interruption because pods are drained with notice.
//   - A spike is an episode of the price above the on-demand price; episodes
//     less than SpikeMerge apart are one spike. A strategy catches a spike if
//     it was already off spot when the spike began; the lead is how long
//     before (0 for a miss). A false move is a move out of spot (not an
//     interruption) with no spike starting before the move back.
package pricesim
