package placer

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/prices"
)

// ScoreRule is how EC2's spot placement scores enter the decision.
//
// A spot placement score (GetSpotPlacementScores) says, from 1 to 10, how
// likely a spot request for a target capacity of the given instance types
// would succeed now in one availability zone. It says nothing about the
// instances already running: AWS states it gives no guarantee about
// "available capacity or risk of interruption". So a low score is read as
// "new spot capacity is hard to get here", and acts on admission only:
//
//   - a market whose zone's score is at or below Risky is capacity-risky,
//     from the first reading at or below it;
//   - a workload every one of whose usable spot markets is capacity-risky
//     has its outlook off spot: its new batch pods go to on-demand, where
//     they start now rather than wait for spot capacity that may not come;
//     a workload with one usable market that is not risky stays on spot
//     (the node provisioner can get capacity there);
//   - a risky market is released only once the score has been at or above
//     Recover for RecoverFor (the readings in between all at or above it),
//     so a score hovering at the threshold does not flip new pods between
//     capacity types with every reading;
//   - running pods are never evicted for a score: a score is about a new
//     request, not about reclaiming the running ones, and a reclaim is
//     announced (the interruption notice, the rebalance recommendation),
//     which the placer acts on;
//   - a reading older than MaxAge holds: a market keeps the state it had
//     (risky or not), so no stale or missing score changes where pods go.
type ScoreRule struct {
	// Risky: a score at or below it makes the market capacity-risky.
	Risky int
	// Recover: a risky market is released after scores at or above it for
	// RecoverFor.
	Recover    int
	RecoverFor time.Duration
	// MaxAge: an older reading holds.
	MaxAge time.Duration
}

// DefaultScoreRule: risky at 3 or below (the bottom of EC2's scale, "not
// likely to succeed"), back at 6 or above (past the middle) for an hour
// (four readings at the default 15-minute period), readings older than an
// hour hold.
func DefaultScoreRule() ScoreRule {
	return ScoreRule{Risky: 3, Recover: 6, RecoverFor: time.Hour, MaxAge: time.Hour}
}

// Validate names each bad field, its value and what is accepted.
func (r ScoreRule) Validate() error {
	var errs []string
	if r.Risky < 1 || r.Risky > 9 {
		errs = append(errs, fmt.Sprintf("score risky threshold %d: want 1 to 9 (EC2 scores from 1 to 10)", r.Risky))
	}
	if r.Recover <= r.Risky || r.Recover > 10 {
		errs = append(errs, fmt.Sprintf("score recover mark %d: want above the risky threshold %d and at most 10", r.Recover, r.Risky))
	}
	if r.RecoverFor < 0 {
		errs = append(errs, fmt.Sprintf("score recover-for %v: want 0 or a positive duration", r.RecoverFor))
	}
	if r.MaxAge <= 0 {
		errs = append(errs, fmt.Sprintf("score max age %v: want a positive duration", r.MaxAge))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// ScoreReading is one score of a zone, and when it was read.
type ScoreReading struct {
	ZoneID string
	Score  int
	At     time.Time
}

// ScoreState is one market's capacity risk as the rule last judged it.
type ScoreState struct {
	Market prices.Market
	// Last is the last reading of the market's zone (zero: none yet).
	Last ScoreReading
	// Fresh says Last is within the rule's MaxAge; a state that is not
	// fresh holds.
	Fresh bool
	// Risky says new batch pods should not count on spot capacity here;
	// Since is when it became so.
	Risky bool
	Since time.Time
	// GoodSince is when the scores of a risky market began to be at or
	// above Recover (zero: they are not).
	GoodSince time.Time
}

// Step judges a market with its latest reading (zero: none) at now.
func (r ScoreRule) Step(prev ScoreState, last ScoreReading, now time.Time) ScoreState {
	next := prev
	if !last.At.IsZero() {
		next.Last = last
	}
	next.Fresh = !next.Last.At.IsZero() && now.Sub(next.Last.At) <= r.MaxAge
	if !next.Fresh || next.Last == prev.Last {
		return next // stale: hold; the same reading: already judged
	}
	sc, at := next.Last.Score, next.Last.At
	switch {
	case sc <= r.Risky:
		if !prev.Risky {
			next.Risky, next.Since = true, at
		}
		next.GoodSince = time.Time{}
	case !prev.Risky:
	case sc < r.Recover:
		next.GoodSince = time.Time{}
	default:
		// A gap longer than MaxAge since the last reading is not evidence
		// the score stayed up: the hour starts again.
		if next.GoodSince.IsZero() || at.Sub(prev.Last.At) > r.MaxAge {
			next.GoodSince = at
		}
		if at.Sub(next.GoodSince) >= r.RecoverFor {
			next.Risky, next.Since, next.GoodSince = false, time.Time{}, time.Time{}
		}
	}
	return next
}

// Reason says the state in words, e.g. "c3.xlarge/us-east-1a/Linux/UNIX
// (use1-az1) spot placement score 2 (≤ 3) since 13:10 UTC".
func (r ScoreRule) Reason(s ScoreState) string {
	where := fmt.Sprintf("%s (%s)", s.Market, s.Last.ZoneID)
	switch {
	case s.Last.At.IsZero():
		return fmt.Sprintf("%s: no spot placement score yet", s.Market)
	case s.Risky:
		why := fmt.Sprintf("%s spot placement score %d (≤ %d) since %s", where, s.Last.Score, r.Risky, clock(s.Since))
		if !s.GoodSince.IsZero() {
			why += fmt.Sprintf(", ≥ %d since %s", r.Recover, clock(s.GoodSince))
		}
		if !s.Fresh {
			why += fmt.Sprintf(", held: last read %s", clock(s.Last.At))
		}
		return why
	default:
		return fmt.Sprintf("%s spot placement score %d", where, s.Last.Score)
	}
}

// ScoreOutlook adds the capacity signal to a workload's outlook: when
// every spot market the workload may use (exposed, see Exposure) is
// capacity-risky, it is off spot, with the markets, their scores, since
// when and the rule back in the reason. An outlook already off spot on
// prices keeps its reason. A market with no score state (no score read,
// the signal off) is not risky, so without scores the outlook is the
// prices' alone.
func ScoreOutlook(o WorkloadOutlook, exposed []prices.Market, states map[prices.Market]ScoreState, r ScoreRule) WorkloadOutlook {
	if o.OffSpot || len(exposed) == 0 {
		return o
	}
	var reasons []string
	var since time.Time
	for _, m := range exposed {
		s, ok := states[m]
		if !ok || !s.Risky {
			return o
		}
		reasons = append(reasons, r.Reason(s))
		if since.IsZero() || s.Since.Before(since) {
			since = s.Since
		}
	}
	sort.Strings(reasons)
	why := "capacity risk, every spot market it may use scores low: " + strings.Join(reasons, "; ") +
		fmt.Sprintf("; back to spot once a market's score stays ≥ %d for %v (running pods stay where they are)", r.Recover, r.RecoverFor)
	if !o.Fresh() {
		why += "; prices held: " + strings.Join(o.Unfresh, "; ")
	}
	o.Outlook = capacity.Outlook{OffSpot: true, Reason: why}
	o.Markets = append([]prices.Market(nil), exposed...)
	o.Since = since
	o.EarliestBack = time.Time{}
	return o
}
