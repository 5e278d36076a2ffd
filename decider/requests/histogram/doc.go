// Package histogram holds the usage distributions behind trimtab's learned
// requests: histograms with exponentially growing buckets whose samples lose
// weight with a half-life, so recent usage counts more than old usage.
//
// It follows the Vertical Pod Autoscaler's model
// (kubernetes/autoscaler vertical-pod-autoscaler/pkg/recommender/util/histogram.go
// and decaying_histogram.go): bucket i starts at first*(ratio^i-1)/(ratio-1),
// so every bucket is 5% wider than the previous one and the relative error of
// a percentile is bounded; decay is applied by scaling new samples up by
// 2^((t-ref)/halfLife) instead of scaling old ones down, with the reference
// time moved forward before the factor overflows. It differs from VPA in its
// checkpoint, which is a compact binary form (about 2 bytes per non-empty
// bucket span) rather than a JSON map, so a container's whole model fits in a
// few hundred bytes.
package histogram
