// Package forecast is trimtab's short-horizon load forecaster. It keeps two
// arms and forecasts with the one that has needed less headroom:
//
//   - seasonal: a downsampled daily profile (robust per-slot EWMA) times a
//     detected day-of-week factor times a recent level ratio;
//   - recent mean: the mean of the last 15 minutes, its upper bound floored
//     at the seasonal expectation so a known daily ramp is still foreseen.
//
// Each arm's upper quantile comes from decaying histograms of its own
// multiplicative errors at the lead a decision sizes at, per load class.
//
// It learns from a workload's own samples (any resolution, gaps allowed),
// detects the daily and weekly periods from the autocorrelation of an hourly
// series rather than assuming them, and keeps about 8 KiB of state per
// workload, never raw weeks of minutes. All methods take time as an
// argument; the model holds no clock.
package forecast
