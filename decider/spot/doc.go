// Package spot is the spike forecaster: it estimates, per spot market, the
// probability that the spot price crosses a threshold within a horizon, and
// turns it into move-out / move-back decisions with hysteresis. It is pure: prices and time are passed
// in, nothing is read from a clock or the network.
//
// The model is an online empirical hazard table. Every Step files the market's
// current situation into one of a few cells — price level relative to the
// threshold, time since the market (or a correlated market: same zone or same
// family) was last above its threshold, whether the price is rising — and,
// once the horizon has passed, records whether the price did cross. The
// probability for a cell is its observed crossing rate, shrunk towards the
// rate pooled over all markets (a Beta prior), so a market with little history
// borrows from the others. Nothing ever sees the future: a sample is labelled
// only after its horizon has elapsed.
//
// Decisions carry hysteresis so the placer never thrashes: a market moves out
// when the probability reaches POut, when the price is already above the
// threshold, or when spot has stayed near the on-demand price for NearFor
// (the saving no longer pays for the risk); it moves back only after MinOff,
// once the probability is at most PBack, the market has been calm (never
// above the threshold) for CalmFor and the price is clearly below it. Stale or
// missing prices give a Hold: the state does not change on data that cannot
// be trusted.
package spot
