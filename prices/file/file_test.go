package file

import (
	"bytes"
	"compress/gzip"
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/prices"
)

func testdata(name string) string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..", "test", "testdata", "prices", name)
}

func TestReadBothFormats(t *testing.T) {
	hs, err := ReadFiles([]string{testdata("r3.large-2015-head.csv.gz"), testdata("eu-west-3a-2020-head.csv")})
	if err != nil {
		t.Fatal(err)
	}
	var r3, t3a *prices.History
	for i := range hs {
		if err := hs[i].Validate(); err != nil {
			t.Error(err)
		}
		switch hs[i].Market {
		case prices.Market{InstanceType: "r3.large", Zone: "us-east-1a", Product: prices.ProductLinux}:
			r3 = &hs[i]
		case prices.Market{InstanceType: "t3a.small", Zone: "eu-west-3a", Product: prices.ProductLinux}:
			t3a = &hs[i]
		}
	}
	if r3 == nil || t3a == nil {
		t.Fatalf("markets missing; got %d histories", len(hs))
	}
	if r3.OnDemand != 0.175 || len(r3.Points) != 399 || r3.Points[1].Price != 1.5 ||
		!r3.Points[0].Time.Equal(time.Date(2015, 3, 11, 16, 50, 22, 0, time.UTC)) {
		t.Errorf("r3.large: od %v, %d points, first %v, second price %v", r3.OnDemand, len(r3.Points), r3.Points[0], r3.Points[1].Price)
	}
	if t3a.OnDemand != 0 {
		t.Errorf("the EC2 export has no on-demand column; got %v", t3a.OnDemand)
	}
	multi := 0
	for _, h := range hs {
		if len(h.Points) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Error("no market with several points in the 2020 slice; the sort is untested")
	}
}

func TestReadPlainAndGzipAgree(t *testing.T) {
	const csv = "AvailabilityZone,InstanceType,ProductDescription,SpotPrice,Timestamp\n" +
		"eu-west-3a,m5d.large,Linux/UNIX,0.0318,2020-07-31T11:00:02+00:00\n" +
		"eu-west-3a,m5d.large,Linux/UNIX,0.0300,2020-07-30T11:00:02+00:00\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(csv))
	zw.Close()
	a, err := Read(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Read(&gz)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1 || len(b) != 1 || len(a[0].Points) != 2 || a[0].Points[0] != b[0].Points[0] || a[0].Points[0].Price != 0.03 {
		t.Errorf("plain %v gzip %v", a, b)
	}
}

func TestReadErrors(t *testing.T) {
	const h15 = "timestamp,region,availability_zone,instance_type,os,spot_price_usd_per_hour,ondemand_price_usd_per_hour\n"
	const hEC2 = "AvailabilityZone,InstanceType,ProductDescription,SpotPrice,Timestamp\n"
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "empty file"},
		{"unknown header", "a,b,c\n1,2,3\n", `unknown header "a,b,c"`},
		{"header only", hEC2, "no price rows"},
		{"negative price", hEC2 + "eu-west-3a,m5d.large,Linux/UNIX,-0.1,2020-07-31T11:00:02+00:00\n", `line 2: column SpotPrice: "-0.1" is not a price`},
		{"NaN price", hEC2 + "eu-west-3a,m5d.large,Linux/UNIX,NaN,2020-07-31T11:00:02+00:00\n", `column SpotPrice: "NaN"`},
		{"bad time", hEC2 + "eu-west-3a,m5d.large,Linux/UNIX,0.1,yesterday\n", `line 2: column Timestamp: "yesterday" is not a timestamp`},
		{"short row", hEC2 + "eu-west-3a,m5d.large,0.1\n", "line 2"},
		{"empty type", hEC2 + "eu-west-3a,,Linux/UNIX,0.1,2020-07-31T11:00:02+00:00\n", "column InstanceType is empty"},
		{"bad on-demand", h15 + "2015-03-11 16:54:38+00:00,us-east-1,us-east-1a,c3.xlarge,Linux,0.03,free\n", `column ondemand_price_usd_per_hour: "free"`},
		{"changing on-demand", h15 + "2015-03-11 16:54:38+00:00,us-east-1,us-east-1a,c3.xlarge,Linux,0.03,0.21\n" +
			"2015-03-11 16:55:38+00:00,us-east-1,us-east-1a,c3.xlarge,Linux,0.03,0.22\n", "line 3: on-demand price 0.22"},
		{"bad gzip", "\x1f\x8bnot really gzip", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestReadFilesRejectsDuplicateMarket(t *testing.T) {
	p := testdata("eu-west-3a-2020-head.csv")
	if _, err := ReadFiles([]string{p, p}); err == nil || !strings.Contains(err.Error(), "appears in both") {
		t.Errorf("err = %v", err)
	}
	if _, err := ReadFile(testdata("missing.csv")); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("err = %v", err)
	}
}

func TestSourceSnapshotSince(t *testing.T) {
	s, err := NewSource(testdata("r3.large-2015-head.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	pts := s.Histories[0].Points
	since := pts[100].Time
	snap, err := s.Snapshot(context.Background(), since)
	if err != nil || len(snap.Histories) != 1 || !snap.Histories[0].Points[0].Time.Equal(since) || !snap.AsOf.Equal(pts[398].Time) {
		t.Errorf("snapshot %v err %v", snap.AsOf, err)
	}
	// Between two points: the one in force comes first.
	snap, _ = s.Snapshot(context.Background(), since.Add(time.Nanosecond))
	if got := snap.Histories[0].Points[0]; got != pts[100] {
		t.Errorf("point in force = %v, want %v", got, pts[100])
	}
}
