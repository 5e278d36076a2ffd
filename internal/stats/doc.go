// Package stats holds the one quantile definition and the one selection
// algorithm every trimtab package uses, so a "median" or a "p10" means the
// same thing in a replay's report, in the leak detector's Theil-Sen slope
// and in a benchmark's latency figure.
//
// The decaying histograms of decider/requests/histogram answer a different
// question (a weighted, bucketed distribution that forgets) and keep their
// own percentile; everything that holds its values in a slice uses this.
package stats
