// Package requests learns per-container CPU and memory requests from usage,
// VPA-style, and adds what VPA lacks: a memory-leak trend that raises memory
// before the OOM, and a remembered OOM bump.
//
// The model per container (Container) is two decaying histograms (package
// histogram): CPU samples, and memory peaks per interval (one sample per
// interval, replaced as the peak grows), plus the minimum memory of every
// hour of the last week for the leak detector (leak.go) and the weekly
// envelope, the last OOM, and calibration scores (each hour's peak over the
// target percentile) from which the memory margin is learned.
// Recommend turns the model into target, lower and upper bounds (percentile
// times a safety margin), clamped by policy and by the largest node's
// allocatable and rounded; Decide applies hysteresis so a request changes
// only when the difference is material. Every number carries a reason.
//
// The package is pure: no clock, no client. Time is passed in, so the replay
// in package replay and the controller run the same code.
package requests
