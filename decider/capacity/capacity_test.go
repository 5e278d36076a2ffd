package capacity

import (
	"strings"
	"testing"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/spot"
)

func TestDecide(t *testing.T) {
	calm := &spot.Assessment{Action: spot.Stay, Reason: spot.ReasonSteady}
	spike := &spot.Assessment{Off: true, Action: spot.MoveOut, Reason: spot.ReasonForecast}
	staleOff := &spot.Assessment{Off: true, Action: spot.Hold, Reason: spot.ReasonStale}
	staleOn := &spot.Assessment{Off: false, Action: spot.Hold, Reason: spot.ReasonStale}
	for _, tc := range []struct {
		name       string
		in         Input
		want       Choice
		od, spot   int32
		reasonPart string
	}{
		{"batch calm", Input{Class: config.ClassBatch, Capacity: config.CapacityAuto, Replicas: 10, SpotPrice: 0.03, OnDemandPrice: 0.21, Forecast: calm}, Spot, 0, 10, "no spike expected"},
		{"batch spike forecast", Input{Class: config.ClassBatch, Capacity: config.CapacityAuto, Replicas: 10, SpotPrice: 0.03, OnDemandPrice: 0.21, Forecast: spike}, OnDemand, 10, 0, "crossing forecast"},
		{"batch stale keeps off", Input{Class: config.ClassBatch, Capacity: config.CapacityAuto, Replicas: 10, SpotPrice: 0.03, OnDemandPrice: 0.21, Forecast: staleOff}, OnDemand, 10, 0, "held: stale"},
		{"batch stale keeps on", Input{Class: config.ClassBatch, Capacity: config.CapacityAuto, Replicas: 10, SpotPrice: 0.03, OnDemandPrice: 0.21, Forecast: staleOn}, Spot, 0, 10, "batch"},
		{"batch no data", Input{Class: config.ClassBatch, Capacity: config.CapacityAuto, Replicas: 4}, Spot, 0, 4, "no forecast"},
		{"standard split", Input{Class: config.ClassStandard, Capacity: config.CapacityAuto, OnDemandBase: 1, Replicas: 5, SpotPrice: 0.03, OnDemandPrice: 0.21, Forecast: calm}, Split, 1, 4, "base 1"},
		{"critical spot policy still has a base", Input{Class: config.ClassCritical, Capacity: config.CapacitySpot, Replicas: 5, SpotPrice: 0.03, OnDemandPrice: 0.21}, Split, 1, 4, "never run on spot alone"},
		{"critical base 0 raised", Input{Class: config.ClassCritical, Capacity: config.CapacityAuto, OnDemandBase: 0, Replicas: 3, Forecast: calm}, Split, 1, 2, "never run on spot alone"},
		{"critical one replica", Input{Class: config.ClassCritical, Capacity: config.CapacityAuto, OnDemandBase: 2, Replicas: 1}, OnDemand, 1, 0, "base 2"},
		{"critical spike", Input{Class: config.ClassCritical, Capacity: config.CapacityAuto, OnDemandBase: 2, Replicas: 6, SpotPrice: 0.03, OnDemandPrice: 0.21, Forecast: spike}, OnDemand, 6, 0, "off spot"},
		{"spot not cheaper", Input{Class: config.ClassBatch, Capacity: config.CapacitySpot, Replicas: 3, SpotPrice: 0.0425, OnDemandPrice: 0.0425, Forecast: calm}, OnDemand, 3, 0, "not cheaper"},
		{"policy on-demand", Input{Class: config.ClassBatch, Capacity: config.CapacityOnDemand, Replicas: 3, SpotPrice: 0.01, OnDemandPrice: 0.2}, OnDemand, 3, 0, "policy"},
		{"zero replicas", Input{Class: config.ClassStandard, Capacity: config.CapacityAuto, OnDemandBase: 1}, OnDemand, 0, 0, "base 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Choice != tc.want || d.OnDemandPods != tc.od || d.SpotPods != tc.spot || !strings.Contains(d.Reason, tc.reasonPart) {
				t.Errorf("got %v, want %s (%d/%d) with reason containing %q", d, tc.want, tc.od, tc.spot, tc.reasonPart)
			}
			if tc.in.Class == config.ClassCritical && d.SpotPods > 0 && d.OnDemandPods == 0 {
				t.Error("critical workload placed on spot alone")
			}
		})
	}
}

func TestDecideRejectsBadInput(t *testing.T) {
	for _, in := range []Input{
		{Class: "urgent", Capacity: config.CapacityAuto},
		{Class: config.ClassBatch, Capacity: "cheap"},
		{Class: config.ClassBatch, Capacity: config.CapacityAuto, Replicas: -1},
	} {
		if _, err := Decide(in); err == nil {
			t.Errorf("%+v: want an error", in)
		}
	}
}
