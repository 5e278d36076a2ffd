package ec2fixture

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestTraceTimeOnTheManagersClock: points are served shifted by Offset and
// only once the manager's clock has reached them; the price in force at
// StartTime comes with the changes after it, as EC2 answers.
func TestTraceTimeOnTheManagersClock(t *testing.T) {
	trace := time.Date(2015, 3, 11, 0, 0, 0, 0, time.UTC)
	origin := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	now := origin
	s := &Server{Offset: origin.Sub(trace), Now: func() time.Time { return now }}
	for i, p := range []string{"0.03", "0.04", "0.25", "0.05"} {
		s.Add(Item{InstanceType: "c3.xlarge", Zone: "us-east-1a", Product: "Linux/UNIX", Price: p, Time: trace.Add(time.Duration(i-1) * time.Hour)})
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client := awsec2.New(awsec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	ask := func(start time.Time) []string {
		t.Helper()
		out, err := client.DescribeSpotPriceHistory(context.Background(), &awsec2.DescribeSpotPriceHistoryInput{StartTime: aws.Time(start), EndTime: aws.Time(now)})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, sp := range out.SpotPriceHistory {
			got = append(got, aws.ToString(sp.SpotPrice)+"@"+sp.Timestamp.Sub(origin).String())
		}
		return got
	}
	if got := ask(origin.Add(-30 * time.Minute)); len(got) != 2 || got[0] != "0.03@-1h0m0s" || got[1] != "0.04@0s" {
		t.Errorf("at the origin: %v, want the price in force (0.03, an hour ago) and 0.04 now", got)
	}
	now = origin.Add(90 * time.Minute)
	if got := ask(origin.Add(30 * time.Minute)); len(got) != 2 || got[1] != "0.25@1h0m0s" {
		t.Errorf("90 minutes on: %v, want 0.04 in force and the spike at +1h, not yet the +2h point", got)
	}
}

func TestRefusesUnsigned(t *testing.T) {
	s := &Server{Region: "us-east-1"}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client := awsec2.New(awsec2.Options{Region: "eu-west-3", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	if _, err := client.DescribeSpotPriceHistory(context.Background(), &awsec2.DescribeSpotPriceHistoryInput{}); err == nil {
		t.Error("a request signed for eu-west-3 was answered by a us-east-1 endpoint")
	}
}
