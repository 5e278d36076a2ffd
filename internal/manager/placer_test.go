package manager

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/prices/ec2"
)

// TestPlacerScoresSettings: the score side is built from the options with
// the EC2 client's region, off unless asked for, and a bad setting is an
// error naming the flag, the value and what is accepted.
func TestPlacerScoresSettings(t *testing.T) {
	api := ec2.NewClient("eu-west-3", "http://127.0.0.1:1", credentials.NewStaticCredentialsProvider("AKID", "secret", ""), ec2.RetryOptions{})
	s, err := placerScores(Options{}, api, "eu-west-3")
	if err != nil || s != nil {
		t.Fatalf("without PlacementScores: %+v, %v; want none", s, err)
	}
	s, err = placerScores(Options{PlacementScores: true, ScoreInstanceTypes: []string{"m5.large"}}, api, "eu-west-3")
	if err != nil || s == nil || s.Region != "eu-west-3" || s.Rule != placer.DefaultScoreRule() || len(s.InstanceTypes) != 1 {
		t.Fatalf("defaults: %+v, %v", s, err)
	}
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{PlacementScores: true, ScorePeriod: -time.Minute}, "--score-period -1m0s: want a positive duration"},
		{Options{PlacementScores: true, ScoreTarget: -2}, "--score-target -2"},
		{Options{PlacementScores: true, ScoreRule: placer.ScoreRule{Risky: 5, Recover: 4, MaxAge: time.Hour}}, "score recover mark 4: want above the risky threshold 5"},
	} {
		if _, err := placerScores(tc.o, api, "eu-west-3"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("placerScores(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
}
