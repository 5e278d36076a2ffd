// Command ec2fixture serves recorded spot price traces over the EC2 Query
// protocol on 127.0.0.1, on a wall clock sped up --clock-speed times from
// the moment it starts: the trace time --trace-start plays at start, and an
// hour of the trace passes in 1/speed hours. Point an EC2 client at it with
// any static access key and the --region it was signed for, e.g.
//
//	go run ./test/ec2fixture/cmd/ec2fixture --prices ../shared/data/prices/aws-spot-2015-us-east-1a-Linux-c3.xlarge.csv.gz --clock-speed 60
//
// It prints the trace time playing now on each --report period.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/trimtab-dev/trimtab/internal/speedclock"
	"github.com/trimtab-dev/trimtab/prices/file"
	"github.com/trimtab-dev/trimtab/test/ec2fixture"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ec2fixture:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("ec2fixture", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8470", "address to serve on; must be a loopback address")
	pricesFlag := fs.String("prices", "", "comma-separated recorded price traces (prices/file layouts, plain or gzip)")
	speed := fs.Float64("clock-speed", 1, "how many times faster than the wall clock the trace plays")
	traceStart := fs.String("trace-start", "", "RFC 3339 trace time to play at start (default: the first point of the traces)")
	clockOrigin := fs.String("clock-origin", "", "RFC 3339 wall time at which the sped-up clock reads the wall clock and --trace-start plays (default: now); give `trimtab manager --clock-origin` the same so both clocks agree")
	region := fs.String("region", "us-east-1", "SigV4 region accepted")
	report := fs.Duration("report", time.Minute, "wall-clock period of the 'now playing' line (0: never)")
	// Spot placement scores (GetSpotPlacementScores, DescribeAvailabilityZones).
	scoresFlag := fs.String("scores", "", "CSV schedule of spot placement scores per zone ID on the trace clock (header Timestamp,Region,AvailabilityZoneId,Score; see ec2fixture.ReadScores)")
	zonesFlag := fs.String("zones", "", "zones DescribeAvailabilityZones answers, name=ID comma-separated, e.g. us-east-1a=use1-az1,us-east-1b=use1-az2")
	denyFlag := fs.String("deny", "", "comma-separated actions answered UnauthorizedOperation, e.g. GetSpotPlacementScores (a role without the permission)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pricesFlag == "" {
		return errors.New("--prices is empty: want one or more comma-separated trace files")
	}
	host, _, err := net.SplitHostPort(*listen)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return fmt.Errorf("--listen %q: want a loopback host:port such as 127.0.0.1:8470", *listen)
	}
	hs, err := file.ReadFiles(strings.Split(*pricesFlag, ","))
	if err != nil {
		return err
	}
	var first time.Time
	for _, h := range hs {
		if len(h.Points) > 0 && (first.IsZero() || h.Points[0].Time.Before(first)) {
			first = h.Points[0].Time
		}
	}
	if first.IsZero() {
		return fmt.Errorf("--prices %s: no price points", *pricesFlag)
	}
	if *traceStart != "" {
		if first, err = time.Parse(time.RFC3339, *traceStart); err != nil {
			return fmt.Errorf("--trace-start %q: want an RFC 3339 time such as 2015-03-11T00:00:00Z", *traceStart)
		}
	}
	origin := time.Now()
	if *clockOrigin != "" {
		if origin, err = time.Parse(time.RFC3339, *clockOrigin); err != nil {
			return fmt.Errorf("--clock-origin %q: want an RFC 3339 time such as 2026-12-04T09:00:00Z", *clockOrigin)
		}
	}
	clk, err := speedclock.New(origin, *speed)
	if err != nil {
		return fmt.Errorf("--clock-speed: %w", err)
	}
	s := &ec2fixture.Server{Region: *region, Offset: origin.Sub(first), Now: clk.Now}
	s.AddHistories(hs)
	if *scoresFlag != "" {
		f, err := os.Open(*scoresFlag)
		if err != nil {
			return fmt.Errorf("--scores: %w", err)
		}
		scores, err := ec2fixture.ReadScores(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("--scores %s: %w", *scoresFlag, err)
		}
		s.SetScores(scores...)
	}
	zones, err := ec2fixture.ParseZones(*region, *zonesFlag)
	if err != nil {
		return fmt.Errorf("--zones: %w", err)
	}
	s.SetZones(zones...)
	var deny []string
	for _, a := range strings.Split(*denyFlag, ",") {
		if a = strings.TrimSpace(a); a != "" {
			if a != "DescribeSpotPriceHistory" && a != "GetSpotPlacementScores" && a != "DescribeAvailabilityZones" {
				return fmt.Errorf("--deny %q: want DescribeSpotPriceHistory, GetSpotPlacementScores or DescribeAvailabilityZones", a)
			}
			deny = append(deny, a)
		}
	}
	s.Deny(deny...)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	log.Printf("serving %d markets on http://%s (region %s), trace %s at speed %v", len(hs), ln.Addr(), *region, first.Format(time.RFC3339), *speed)
	if *report > 0 {
		go func() {
			for range time.Tick(*report) {
				log.Printf("trace time now %s", clk.Now().Add(-s.Offset).UTC().Format(time.RFC3339))
			}
		}()
	}
	return http.Serve(ln, s)
}
