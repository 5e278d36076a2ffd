// Package trend holds the robust statistics behind trimtab's memory-leak
// detector: the Theil-Sen slope (the median of all pairwise slopes, which
// ignores up to ~29% outliers such as a GC spike) and the Mann-Kendall test
// for a monotonic trend (a rank test: it asks whether later points are
// higher than earlier ones more often than chance allows, whatever the noise
// distribution). Both are pure functions over small slices.
package trend
