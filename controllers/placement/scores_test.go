package placement

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/test/ec2fixture"
)

// withScores gives the scene's price side the score side, on the same
// fixture through the same SDK client: us-east-1a is zone ID use1-az4 in
// this account (DescribeAvailabilityZones: the scene's nodes carry no
// zone-id label), scores read every 5 minutes for c3.xlarge (the spot
// node's) and two more types, risky at ≤ 3, back after ≥ 6 for 20 minutes,
// readings older than 20 minutes hold.
func (s *priceScene) withScores(schedule ...ec2fixture.Score) *Scores {
	s.ec2.SetZones(ec2fixture.Zone{Name: "us-east-1a", ID: "use1-az4"}, ec2fixture.Zone{Name: "us-east-1b", ID: "use1-az6"})
	s.ec2.SetScores(schedule...)
	sc := &Scores{API: s.ctrl.Prices.API.(ScoresAPI), Region: "us-east-1", Period: 5 * time.Minute,
		Rule:          placer.ScoreRule{Risky: 3, Recover: 6, RecoverFor: 20 * time.Minute, MaxAge: 20 * time.Minute},
		InstanceTypes: []string{"m3.xlarge", "r3.large"}}
	s.ctrl.Prices.Scores = sc
	return sc
}

func (s *priceScene) traceNow() time.Time { return s.clk.Now().Add(-s.ec2.Offset) }

func (s *priceScene) calls(action string) int {
	n := 0
	for _, c := range s.ec2.Calls() {
		if c.Get("Action") == action {
			n++
		}
	}
	return n
}

// TestScoreDropSendsNewPodsOnDemand replays the trace from 13:00 on
// 2015-03-17 (prices calm until 13:35, the forecaster off spot only after
// 14:16) with use1-az4's placement score 9, then 2 from 13:10, then 8 from
// 13:20. The score side fails from 13:15 to 13:40. The batch workload's
// only market is c3.xlarge/us-east-1a, so at the 13:10 reading its outlook
// goes off spot with the score in words, the Decision's capacity turns
// on-demand and a new pod admitted through the webhook goes there saying
// why — and no running pod is evicted, ever. Through the failure the
// readings grow old and hold (PlacementScores=False, Stale), so the 8 it
// cannot see moves nothing; once readable again the market is released
// only after 20 minutes at ≥ 6, and the capacity goes back to spot.
func TestScoreDropSendsNewPodsOnDemand(t *testing.T) {
	s := newPriceScene(t, marchTrace, marchStart)
	at := func(hh, mm int) time.Time { return time.Date(2015, 3, 17, hh, mm, 0, 0, time.UTC) }
	s.withScores(ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az4", Score: 9},
		ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az4", Score: 2, Time: at(13, 10)},
		ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az4", Score: 8, Time: at(13, 20)},
		ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az6", Score: 1})
	noEvictions := func() {
		t.Helper()
		if got := s.cc.requests(); len(got) != 0 {
			t.Fatalf("evictions %v at trace %s: a placement score must never evict", got, s.traceNow().Format(time.RFC3339))
		}
	}
	var offAt time.Time
	for range 6 {
		s.sync()
		noEvictions()
		if split := s.decide("etl"); split.Rest == capacity.OnDemand {
			offAt = s.traceNow()
			break
		}
		s.clk.Step(5 * time.Minute)
	}
	if !offAt.Equal(at(13, 10)) {
		t.Fatalf("capacity went on-demand at trace %v, want at the 13:10 reading", offAt)
	}
	d := s.decision("etl")
	o := d.Status.Placement.Outlook
	for _, want := range []string{"capacity risk", "c3.xlarge/us-east-1a/Linux/UNIX (use1-az4) spot placement score 2 (≤ 3) since", "back to spot once a market's score stays ≥ 6 for 20m0s"} {
		if o == nil || !o.OffSpot || !strings.Contains(o.Reason, want) {
			t.Fatalf("etl's outlook %+v, want off spot saying %q", o, want)
		}
	}
	if o.Since == nil || !o.Since.Time.Equal(s.clk.Now()) || len(o.Markets) != 1 || o.Markets[0] != "c3.xlarge/us-east-1a" {
		t.Errorf("outlook since %v markets %v, want since now (the reading), c3.xlarge/us-east-1a", o.Since, o.Markets)
	}
	if !strings.Contains(d.Status.Capacity.Reason, "spot placement score 2") {
		t.Errorf("Decision capacity reason %q does not give the score", d.Status.Capacity.Reason)
	}
	t.Logf("Decision capacity: %s", d.Status.Capacity.Reason)
	if c := meta.FindStatusCondition(d.Status.Placement.Conditions, v1alpha1.PlacementScores); c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "use1-az4") {
		t.Errorf("PlacementScores %+v, want True naming use1-az4", c)
	}
	pod := s.admit("etl")
	if got := pod.Annotations[config.AnnotationDecision]; !strings.HasPrefix(got, "on-demand (required)") || !strings.Contains(got, "spot placement score 2") {
		t.Errorf("new etl pod: %s %q, want on-demand (required) with the score", config.AnnotationDecision, got)
	}
	if got := s.admit("web").Annotations[config.AnnotationDecision]; strings.Contains(got, "placement score") {
		t.Errorf("the critical pod's placement follows the score: %q", got)
	}
	// Past the settle time: still nothing is evicted.
	for range 4 {
		s.clk.Step(15 * time.Second)
		s.sync()
		noEvictions()
	}

	// The score side fails from 13:15 to 13:40 (the prices keep coming);
	// from 13:35 the 13:10 reading is older than 20 minutes.
	s.clk.Step(5*time.Minute - time.Minute) // trace 13:15
	s.ec2.Fail("500", "GetSpotPlacementScores")
	for s.traceNow().Before(at(13, 40)) {
		s.sync()
		noEvictions()
		if split := s.decide("etl"); split.Rest != capacity.OnDemand {
			t.Fatalf("capacity %v at trace %s while the scores could not be read: a stale score must hold", split, s.traceNow())
		}
		s.clk.Step(5 * time.Minute)
	}
	d = s.decision("etl")
	if c := meta.FindStatusCondition(d.Status.Placement.Conditions, v1alpha1.PlacementScores); c == nil || c.Status != metav1.ConditionFalse || c.Reason != "Stale" || !strings.Contains(c.Message, "InternalError") {
		t.Errorf("PlacementScores %+v, want False, Stale, with the last error", c)
	} else {
		t.Logf("PlacementScores: %s: %s", c.Reason, c.Message)
	}
	s.ec2.Fail("")

	// Readable again: 8 from 13:40; back to spot 20 minutes of readings
	// later, not before.
	var backAt time.Time
	for range 8 {
		s.sync()
		noEvictions()
		if split := s.decide("etl"); split.Rest == capacity.Spot {
			backAt = s.traceNow()
			break
		}
		s.clk.Step(5 * time.Minute)
	}
	t.Logf("back on spot at trace %s", backAt.Format(time.RFC3339))
	if !backAt.Equal(at(14, 0)) {
		t.Fatalf("back on spot at trace %v, want at 14:00 (20 minutes of readings ≥ 6 from 13:40)", backAt)
	}
	if o := s.decision("etl").Status.Placement.Outlook; o.OffSpot {
		t.Errorf("outlook still off spot: %+v", o)
	}
	if got := gauge(t, marketRisky.WithLabelValues("c3.xlarge", "us-east-1a")); got != 0 {
		t.Errorf("trimtab_placer_market_capacity_risky = %v after the release", got)
	}
	if n := s.calls("DescribeAvailabilityZones"); n != 1 {
		t.Errorf("DescribeAvailabilityZones called %d times, want once (cached)", n)
	}
	for _, c := range s.ec2.Calls() {
		if c.Get("Action") == "GetSpotPlacementScores" && (c.Get("TargetCapacity") != "1" || c.Get("InstanceType.1") != "c3.xlarge" || c.Get("InstanceType.3") != "r3.large" || c.Get("SingleAvailabilityZone") != "true") {
			t.Fatalf("GetSpotPlacementScores asked %v, want the 3 types, 1 instance (one spot node), per zone", c)
		}
	}
}

// TestScoresWithoutPermissionLeavePricesAlone: the role lacks
// ec2:GetSpotPlacementScores. The scores (1, which would be risky) are
// never seen; the placer decides on prices alone (spot until the
// forecaster moves out), says so once — PlacementScores=False (Off) on the
// Decision, a Warning PlacementScoresOff Event on the forecaster's
// ConfigMap, trimtab_placer_placement_scores_enabled at 0 — and does not
// ask again within the hour.
func TestScoresWithoutPermissionLeavePricesAlone(t *testing.T) {
	s := newPriceScene(t, marchTrace, marchStart)
	ctx := context.Background()
	s.withScores(ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az4", Score: 1})
	s.ec2.Deny("GetSpotPlacementScores")
	for range 12 { // trace 13:00 to 13:55
		s.sync()
		if split := s.decide("etl"); split.Rest != capacity.Spot {
			t.Fatalf("capacity %v at trace %s: without the permission the scores must not count", split, s.traceNow())
		}
		s.clk.Step(5 * time.Minute)
	}
	if n := s.calls("GetSpotPlacementScores"); n != 1 {
		t.Errorf("GetSpotPlacementScores called %d times in an hour after UnauthorizedOperation, want once", n)
	}
	if got := gauge(t, scoresEnabled); got != 0 {
		t.Errorf("trimtab_placer_placement_scores_enabled = %v, want 0", got)
	}
	d := s.decision("etl")
	c := meta.FindStatusCondition(d.Status.Placement.Conditions, v1alpha1.PlacementScores)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != "Off" || !strings.Contains(c.Message, "ec2:GetSpotPlacementScores") || !strings.Contains(c.Message, "UnauthorizedOperation") {
		t.Fatalf("PlacementScores %+v, want False, Off, naming the permission", c)
	}
	t.Logf("PlacementScores: %s: %s", c.Reason, c.Message)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var evs eventsv1.EventList
		if err := s.c.List(ctx, &evs, client.InNamespace("trimtab-system")); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range evs.Items {
			if e.Reason == "PlacementScoresOff" && e.Regarding.Name == "trimtab-spot-forecaster" {
				n++
				t.Logf("Event %s %s: %s", e.Type, e.Reason, e.Note)
			}
		}
		if n == 1 {
			break
		}
		if n > 1 || time.Now().After(deadline) {
			t.Fatalf("%d PlacementScoresOff Events on the checkpoint ConfigMap, want exactly one", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestTooFewInstanceTypesTurnScoresOff: with only the spot node's type
// to ask about, EC2's score would always be low; the signal stays off and
// nothing is asked.
func TestTooFewInstanceTypesTurnScoresOff(t *testing.T) {
	s := newPriceScene(t, marchTrace, marchStart)
	sc := s.withScores(ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az4", Score: 1})
	sc.InstanceTypes = []string{"m3.xlarge"}
	s.sync()
	if split := s.decide("etl"); split.Rest != capacity.Spot {
		t.Fatalf("capacity %v with too few types to score", split)
	}
	if n := s.calls("GetSpotPlacementScores") + s.calls("DescribeAvailabilityZones"); n != 0 {
		t.Errorf("%d score calls with too few types, want none", n)
	}
	c := meta.FindStatusCondition(s.decision("etl").Status.Placement.Conditions, v1alpha1.PlacementScores)
	if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "only 2 spot instance type(s) to ask about (c3.xlarge, m3.xlarge)") {
		t.Fatalf("PlacementScores %+v", c)
	}
}

func gauge(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// TestScoreRiskSurvivesARestart: the rule's hysteresis is in the checkpoint.
// The market turns risky at the 13:10 reading (2); from 13:20 it reads 5,
// between the marks, which keeps a risky market risky but would not make a
// fresh one so. A restart at 13:30 (a new controller, the same ConfigMap)
// must keep it risky, and the capacity on-demand: a fresh start would take
// the 5 as not risky and send new pods back to spot.
func TestScoreRiskSurvivesARestart(t *testing.T) {
	s := newPriceScene(t, marchTrace, marchStart)
	at := func(hh, mm int) time.Time { return time.Date(2015, 3, 17, hh, mm, 0, 0, time.UTC) }
	schedule := []ec2fixture.Score{{Region: "us-east-1", ZoneID: "use1-az4", Score: 9},
		{Region: "us-east-1", ZoneID: "use1-az4", Score: 2, Time: at(13, 10)},
		{Region: "us-east-1", ZoneID: "use1-az4", Score: 5, Time: at(13, 20)}}
	s.withScores(schedule...)
	for s.traceNow().Before(at(13, 30)) {
		s.sync()
		s.clk.Step(5 * time.Minute)
	}
	if split := s.decide("etl"); split.Rest != capacity.OnDemand {
		t.Fatalf("capacity %v at trace %s, want on-demand (risky since 13:10, 5 since 13:20)", split, s.traceNow())
	}
	// The restart: a new controller with its score side, nothing in memory.
	s.ctrl = s.newController(s.ctrl.Prices.API)
	s.withScores(schedule...)
	for range 3 {
		s.sync()
		if split := s.decide("etl"); split.Rest != capacity.OnDemand {
			t.Fatalf("capacity %v at trace %s after a restart, want on-demand: the market was risky and reads 5 (< 6)", split, s.traceNow())
		}
		s.clk.Step(5 * time.Minute)
	}
	if got := s.cc.requests(); len(got) != 0 {
		t.Errorf("evictions %v: a placement score must never evict", got)
	}
}
