package stats

// Select reorders v so that v[k] is the value a sort would put there, with
// no larger value before it and no smaller one after, and returns it. It is
// Hoare's quickselect with a median-of-three pivot: linear on average, where
// sorting is n·log n (the leak detector's Theil-Sen median of n(n−1)/2
// pairwise slopes spent most of a recommendation's time sorting before it).
// v holds no NaN (Quantile checks); k out of range panics.
func Select[T Number](v []T, k int) T {
	_ = v[k]
	lo, hi := 0, len(v)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		pivot := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}
