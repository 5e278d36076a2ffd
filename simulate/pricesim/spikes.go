package pricesim

import (
	"sort"
	"time"

	"github.com/trimtab-dev/trimtab/prices"
)

// Spike is one episode of the price above the threshold.
type Spike struct {
	Start, End time.Time
	Peak       float64
}

// Spikes finds the episodes of h above threshold, merging episodes less than
// merge apart. An episode still open at the end of the history ends there.
func Spikes(h prices.History, threshold float64, merge time.Duration) []Spike {
	var out []Spike
	in := false
	for _, p := range h.Points {
		switch {
		case p.Price > threshold && !in:
			in = true
			if n := len(out); n > 0 && p.Time.Sub(out[n-1].End) < merge {
				out[n-1].End = time.Time{} // reopen the previous spike
				if p.Price > out[n-1].Peak {
					out[n-1].Peak = p.Price
				}
				continue
			}
			out = append(out, Spike{Start: p.Time, Peak: p.Price})
		case p.Price > threshold:
			if n := len(out); p.Price > out[n-1].Peak {
				out[n-1].Peak = p.Price
			}
		case p.Price <= threshold && in:
			in = false
			out[len(out)-1].End = p.Time
		}
	}
	if in && len(h.Points) > 0 {
		out[len(out)-1].End = h.Points[len(h.Points)-1].Time
	}
	return out
}

// interval is a stretch off spot and how it began.
type interval struct {
	start, end time.Time
	proactive  bool // a planned move, not an interruption
}

// leads returns, for each spike, how long before its start the strategy was
// already off spot (0 when it was on spot and got interrupted).
func leads(spikes []Spike, offs []interval) []time.Duration {
	out := make([]time.Duration, len(spikes))
	for i, s := range spikes {
		j := sort.Search(len(offs), func(j int) bool { return !offs[j].start.Before(s.Start) })
		// offs[j-1] is the last interval starting strictly before the spike.
		if j > 0 && offs[j-1].end.After(s.Start) {
			out[i] = s.Start.Sub(offs[j-1].start)
		}
	}
	return out
}

// falseMoves counts proactive intervals in which no spike started.
func falseMoves(spikes []Spike, offs []interval) int {
	n := 0
	for _, o := range offs {
		if !o.proactive {
			continue
		}
		k := sort.Search(len(spikes), func(k int) bool { return !spikes[k].Start.Before(o.start) })
		if k == len(spikes) || !spikes[k].Start.Before(o.end) {
			n++
		}
	}
	return n
}
