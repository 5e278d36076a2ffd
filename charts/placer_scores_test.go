package charts_test

import (
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/trimtab-dev/trimtab/controllers/placement"
	"github.com/trimtab-dev/trimtab/placer"
)

// TestPlacementScoreValues: placer.ec2.placementScores reaches the
// manager's flags with the manager's own defaults, and values it would
// refuse fail the install naming the key.
func TestPlacementScoreValues(t *testing.T) {
	dep := one[appsv1.Deployment](t, render(t, "--set", "placer.enabled=true"), "Deployment")
	def := placer.DefaultScoreRule()
	for name, want := range map[string]string{
		"placement-scores":  "true",
		"score-period":      placement.DefaultScorePeriod.String(),
		"score-risky":       strconv.Itoa(def.Risky),
		"score-recover":     strconv.Itoa(def.Recover),
		"score-recover-for": def.RecoverFor.String(),
		"score-max-age":     def.MaxAge.String(),
		"score-target":      "0",
	} {
		got, ok := managerArg(t, dep, name)
		if d, err := time.ParseDuration(got); err == nil && d.String() == want {
			continue // "15m" is 15m0s
		}
		if !ok || got != want {
			t.Errorf("default --%s=%q (present %v): want the manager's default %s", name, got, ok, want)
		}
	}
	if _, ok := managerArg(t, dep, "score-instance-types"); ok {
		t.Error("--score-instance-types set with no instanceTypes")
	}

	dep = one[appsv1.Deployment](t, render(t, "--set", "placer.enabled=true,placer.ec2.placementScores.enabled=false,placer.ec2.placementScores.risky=2,placer.ec2.placementScores.instanceTypes={m5.large,c5.xlarge}"), "Deployment")
	for name, want := range map[string]string{"placement-scores": "false", "score-risky": "2", "score-instance-types": "m5.large,c5.xlarge"} {
		if got, _ := managerArg(t, dep, name); got != want {
			t.Errorf("--%s=%q, want %q", name, got, want)
		}
	}

	for _, tc := range []struct{ set, want string }{
		{"placer.ec2.placementScores.risky=0", "risky"},
		{"placer.ec2.placementScores.recover=11", "recover"},
		{"placer.ec2.placementScores.period=hourly", "period"},
		{"placer.ec2.placementScores.target=-1", "target"},
		{"placer.ec2.placementScores.instanceTypes={large}", "instanceTypes"},
		{"placer.ec2.placementScores.treshold=3", "treshold"},
	} {
		refused(t, tc.set, tc.want)
	}
}
