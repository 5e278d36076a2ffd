package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRejectsBadFlags: each bad flag is an error naming it and what is
// accepted, before anything listens.
func TestRunRejectsBadFlags(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace.csv")
	if err := os.WriteFile(trace, []byte("AvailabilityZone,InstanceType,ProductDescription,SpotPrice,Timestamp\nus-east-1a,c3.xlarge,Linux/UNIX,0.03,2015-03-11T00:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("AvailabilityZone,InstanceType,ProductDescription,SpotPrice,Timestamp\nus-east-1a,c3.xlarge,Linux/UNIX,cheap,2015-03-11T00:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badScores := filepath.Join(dir, "scores.csv")
	if err := os.WriteFile(badScores, []byte("Timestamp,Region,AvailabilityZoneId,Score\n,us-east-1,use1-az1,11\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--prices is empty"},
		{[]string{"--prices", trace, "--listen", "0.0.0.0:8470"}, `--listen "0.0.0.0:8470": want a loopback`},
		{[]string{"--prices", trace, "--listen", "127.0.0.1:0", "--clock-speed", "0"}, "--clock-speed: clock speed 0: want a positive finite factor"},
		{[]string{"--prices", trace, "--listen", "127.0.0.1:0", "--trace-start", "yesterday"}, `--trace-start "yesterday": want an RFC 3339 time`},
		{[]string{"--prices", bad, "--listen", "127.0.0.1:0"}, "cheap"},
		{[]string{"--prices", trace, "--listen", "127.0.0.1:0", "--clock-origin", "soon"}, `--clock-origin "soon": want an RFC 3339 time`},
		{[]string{"--prices", trace, "--listen", "127.0.0.1:0", "--scores", badScores}, `line 2: Score "11": want a whole number from 1 to 10`},
		{[]string{"--prices", trace, "--listen", "127.0.0.1:0", "--zones", "us-east-1a"}, `--zones: zone "us-east-1a": want name=ID`},
		{[]string{"--prices", trace, "--listen", "127.0.0.1:0", "--deny", "RunInstances"}, `--deny "RunInstances": want DescribeSpotPriceHistory`},
	} {
		err := run(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}
