package placer

import (
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/prices"
)

var (
	t0   = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	mkt1 = prices.Market{InstanceType: "c3.xlarge", Zone: "us-east-1a", Product: prices.ProductLinux}
	mkt2 = prices.Market{InstanceType: "c3.xlarge", Zone: "us-east-1b", Product: prices.ProductLinux}
)

// TestScoreRuleStep walks one market through readings 15 minutes apart
// (the default rule: risky at ≤ 3, back after ≥ 6 for an hour, readings
// older than an hour hold).
func TestScoreRuleStep(t *testing.T) {
	r := DefaultScoreRule()
	type step struct {
		score int           // 0: no new reading this step
		at    time.Duration // when this step runs (and the reading, if any, was read)
		risky bool
		fresh bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"no reading: not risky, not fresh", []step{{0, 0, false, false}}},
		{"high: not risky", []step{{9, 0, false, true}}},
		{"just above the threshold: not risky", []step{{4, 0, false, true}}},
		{"at the threshold: risky at once", []step{{3, 0, true, true}}},
		{"middle scores after risky hold it risky", []step{{2, 0, true, true}, {5, 15, true, true}, {4, 30, true, true}, {5, 120, true, true}}},
		{"back only after an hour at ≥ 6", []step{{2, 0, true, true}, {6, 15, true, true}, {7, 30, true, true}, {9, 60, true, true}, {6, 75, false, true}}},
		{"a middle score restarts the hour", []step{{2, 0, true, true}, {8, 15, true, true}, {8, 30, true, true}, {5, 45, true, true}, {8, 60, true, true}, {8, 75, true, true}, {8, 120, false, true}}},
		{"a low score restarts the hour", []step{{2, 0, true, true}, {8, 15, true, true}, {3, 30, true, true}, {8, 45, true, true}, {8, 90, true, true}, {8, 105, false, true}}},
		{"stale scores hold risky", []step{{2, 0, true, true}, {0, 61, true, false}, {0, 600, true, false}}},
		{"stale never makes a market risky", []step{{9, 0, false, true}, {0, 300, false, false}}},
		{"no new reading: the same one is not counted twice", []step{{2, 0, true, true}, {8, 15, true, true}, {0, 50, true, true}, {0, 76, true, false}}},
		{"a gap longer than MaxAge restarts the hour", []step{{2, 0, true, true}, {8, 15, true, true}, {8, 90, true, true}, {8, 120, true, true}, {8, 150, false, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ScoreState{Market: mkt1}
			for i, st := range tc.steps {
				now := t0.Add(st.at * time.Minute)
				var rd ScoreReading
				if st.score > 0 {
					rd = ScoreReading{ZoneID: "use1-az1", Score: st.score, At: now}
				}
				s = r.Step(s, rd, now)
				if s.Risky != st.risky || s.Fresh != st.fresh {
					t.Fatalf("step %d (score %d at +%dm): risky %v fresh %v, want risky %v fresh %v (%+v)", i, st.score, st.at, s.Risky, s.Fresh, st.risky, st.fresh, s)
				}
			}
		})
	}
}

func TestScoreRuleValidate(t *testing.T) {
	if err := DefaultScoreRule().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		r    ScoreRule
		want string
	}{
		{ScoreRule{Risky: 0, Recover: 6, MaxAge: time.Hour}, "score risky threshold 0: want 1 to 9"},
		{ScoreRule{Risky: 3, Recover: 3, MaxAge: time.Hour}, "score recover mark 3: want above the risky threshold 3"},
		{ScoreRule{Risky: 3, Recover: 11, MaxAge: time.Hour}, "score recover mark 11"},
		{ScoreRule{Risky: 3, Recover: 6, RecoverFor: -time.Minute, MaxAge: time.Hour}, "score recover-for -1m0s"},
		{ScoreRule{Risky: 3, Recover: 6}, "score max age 0s: want a positive duration"},
	} {
		if err := tc.r.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.r, err, tc.want)
		}
	}
}

// TestScoreOutlook: a workload goes off spot on scores only when every
// market it may use is risky; a price outlook keeps its own reason.
func TestScoreOutlook(t *testing.T) {
	r := DefaultScoreRule()
	risky := func(m prices.Market, zone string, score int) ScoreState {
		return ScoreState{Market: m, Last: ScoreReading{ZoneID: zone, Score: score, At: t0.Add(15 * time.Minute)}, Fresh: true, Risky: true, Since: t0}
	}
	fine := ScoreState{Market: mkt2, Last: ScoreReading{ZoneID: "use1-az2", Score: 8, At: t0}, Fresh: true}
	priced := WorkloadOutlook{Outlook: capacity.Outlook{OffSpot: true, Reason: "c3.xlarge/us-east-1a/Linux/UNIX off spot since 10:00 UTC: price above threshold"}}
	for _, tc := range []struct {
		name    string
		o       WorkloadOutlook
		exposed []prices.Market
		states  map[prices.Market]ScoreState
		off     bool
		want    []string
	}{
		{"no scores: the prices' outlook", WorkloadOutlook{}, []prices.Market{mkt1}, nil, false, nil},
		{"no markets: nothing to judge", WorkloadOutlook{}, nil, map[prices.Market]ScoreState{mkt1: risky(mkt1, "use1-az1", 2)}, false, nil},
		{"the only market risky: off spot", WorkloadOutlook{}, []prices.Market{mkt1}, map[prices.Market]ScoreState{mkt1: risky(mkt1, "use1-az1", 2)}, true,
			[]string{"capacity risk", "c3.xlarge/us-east-1a/Linux/UNIX (use1-az1) spot placement score 2 (≤ 3) since 10:00 UTC", "back to spot once a market's score stays ≥ 6 for 1h0m0s", "running pods stay"}},
		{"one of two markets risky: spot", WorkloadOutlook{}, []prices.Market{mkt1, mkt2}, map[prices.Market]ScoreState{mkt1: risky(mkt1, "use1-az1", 2), mkt2: fine}, false, nil},
		{"one risky, one without a score: spot", WorkloadOutlook{}, []prices.Market{mkt1, mkt2}, map[prices.Market]ScoreState{mkt1: risky(mkt1, "use1-az1", 2)}, false, nil},
		{"both risky: off spot naming both", WorkloadOutlook{}, []prices.Market{mkt1, mkt2}, map[prices.Market]ScoreState{mkt1: risky(mkt1, "use1-az1", 2), mkt2: risky(mkt2, "use1-az2", 1)}, true,
			[]string{"(use1-az1) spot placement score 2", "(use1-az2) spot placement score 1"}},
		{"off on prices: the prices' reason", priced, []prices.Market{mkt1}, map[prices.Market]ScoreState{mkt1: risky(mkt1, "use1-az1", 2)}, true, []string{"price above threshold"}},
		{"stale prices are said", WorkloadOutlook{Unfresh: []string{"c3.xlarge/us-east-1a/Linux/UNIX: no spot price yet"}}, []prices.Market{mkt1}, map[prices.Market]ScoreState{mkt1: risky(mkt1, "use1-az1", 2)}, true,
			[]string{"spot placement score 2", "prices held: c3.xlarge/us-east-1a/Linux/UNIX: no spot price yet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ScoreOutlook(tc.o, tc.exposed, tc.states, r)
			if got.OffSpot != tc.off {
				t.Fatalf("OffSpot %v, want %v (%q)", got.OffSpot, tc.off, got.Reason)
			}
			for _, w := range tc.want {
				if !strings.Contains(got.Reason, w) {
					t.Errorf("reason %q lacks %q", got.Reason, w)
				}
			}
			if tc.off && tc.o.OffSpot == false && (len(got.Markets) != len(tc.exposed) || !got.Since.Equal(t0)) {
				t.Errorf("markets %v since %v, want %v since %v", got.Markets, got.Since, tc.exposed, t0)
			}
		})
	}
	// A risky market still holding on a stale score says so.
	s := risky(mkt1, "use1-az1", 2)
	s.Fresh, s.GoodSince = false, t0.Add(15*time.Minute)
	if got := r.Reason(s); !strings.Contains(got, "≥ 6 since 10:15 UTC") || !strings.Contains(got, "held: last read 10:15 UTC") {
		t.Errorf("Reason = %q", got)
	}
}
