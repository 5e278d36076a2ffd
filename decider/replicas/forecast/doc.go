// Package forecast is trimtab's short-horizon seasonal load forecaster: a
// downsampled daily profile (robust per-slot EWMA) times a detected
// day-of-week factor times a recent level ratio, with an upper quantile taken
// from a decaying histogram of its own multiplicative errors at the lead time.
//
// It learns from a workload's own samples (any resolution, gaps allowed),
// detects the daily and weekly periods from the autocorrelation of an hourly
// series rather than assuming them, and keeps a few KiB of state per
// workload, never raw weeks of minutes. All methods take time as an
// argument; the model holds no clock.
package forecast
