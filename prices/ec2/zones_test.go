package ec2

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trimtab-dev/trimtab/test/ec2fixture"
)

// TestZoneIDsAndUnauthorized runs the real SDK client against the
// fixture: DescribeAvailabilityZones maps names to IDs, and a role without
// the permission is told apart from any other failure.
func TestZoneIDsAndUnauthorized(t *testing.T) {
	f := &ec2fixture.Server{Region: "us-east-1"}
	f.SetZones(ec2fixture.Zone{Name: "us-east-1a", ID: "use1-az4"}, ec2fixture.Zone{Name: "us-east-1b", ID: "use1-az1"})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := NewClient("us-east-1", srv.URL, credentials.NewStaticCredentialsProvider("AKID", "secret", ""), RetryOptions{MaxAttempts: 2, MaxBackoff: time.Millisecond})
	got, err := ZoneIDs(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["us-east-1a"] != "use1-az4" || got["us-east-1b"] != "use1-az1" {
		t.Errorf("ZoneIDs = %v", got)
	}
	f.Deny("DescribeAvailabilityZones", "GetSpotPlacementScores")
	f.ResetCalls()
	_, err = ZoneIDs(context.Background(), client)
	if !Unauthorized(err) {
		t.Errorf("denied DescribeAvailabilityZones: %v, want UnauthorizedOperation", err)
	}
	_, err = PlacementScores(context.Background(), client, "us-east-1", []string{"c3.xlarge", "m3.xlarge", "r3.large"}, 1)
	if !Unauthorized(err) {
		t.Errorf("denied GetSpotPlacementScores: %v, want UnauthorizedOperation", err)
	}
	if n := len(f.Calls()); n != 2 {
		t.Errorf("%d calls for two denied requests: an UnauthorizedOperation must not be retried", n)
	}
	f.Deny()
	f.Fail("500")
	if _, err := ZoneIDs(context.Background(), client); err == nil || Unauthorized(err) {
		t.Errorf("InternalError: %v, want an error that is not UnauthorizedOperation", err)
	}
}

// TestPlacementScoresFollowTheSchedule: the fixture's scores change on the
// trace clock, as its prices do.
func TestPlacementScoresFollowTheSchedule(t *testing.T) {
	trace := time.Date(2015, 3, 17, 13, 0, 0, 0, time.UTC)
	origin := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	now := origin
	f := &ec2fixture.Server{Region: "us-east-1", Offset: origin.Sub(trace), Now: func() time.Time { return now }}
	f.SetScores(ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az1", Score: 2, Time: trace.Add(10 * time.Minute)},
		ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az1", Score: 9},
		ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az2", Score: 7})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := NewClient("us-east-1", srv.URL, credentials.NewStaticCredentialsProvider("AKID", "secret", ""), RetryOptions{MaxAttempts: 1})
	types := []string{"c3.xlarge", "m3.xlarge", "r3.large"}
	for _, tc := range []struct {
		after time.Duration
		az1   int
	}{{0, 9}, {9 * time.Minute, 9}, {10 * time.Minute, 2}, {time.Hour, 2}} {
		now = origin.Add(tc.after)
		got, err := PlacementScores(context.Background(), client, "us-east-1", types, 4)
		if err != nil {
			t.Fatal(err)
		}
		if got["use1-az1"] != tc.az1 || got["use1-az2"] != 7 {
			t.Errorf("at trace +%v: %v, want use1-az1 %d and use1-az2 7", tc.after, got, tc.az1)
		}
	}
}
