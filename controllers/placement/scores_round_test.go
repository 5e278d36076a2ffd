package placement

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/prices"
	"github.com/trimtab-dev/trimtab/prices/ec2"
	"github.com/trimtab-dev/trimtab/test/ec2fixture"
)

// TestScoresReadZoneIDsFromLabels: nodes labelled with
// topology.k8s.aws/zone-id need no DescribeAvailabilityZones (which the
// fixture would answer with another mapping); each market gets its zone's
// score; the target is the spot nodes rounded up to a power of two.
func TestScoresReadZoneIDsFromLabels(t *testing.T) {
	f := &ec2fixture.Server{Region: "us-east-1"}
	f.SetZones(ec2fixture.Zone{Name: "us-east-1a", ID: "use1-az1"}, ec2fixture.Zone{Name: "us-east-1b", ID: "use1-az2"})
	f.SetScores(ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az4", Score: 2}, ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az6", Score: 9},
		ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az1", Score: 10})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	api := ec2.NewClient("us-east-1", srv.URL, credentials.NewStaticCredentialsProvider("AKID", "secret", ""), ec2.RetryOptions{MaxAttempts: 1})
	st := config.DefaultSettings()
	var nodes []*corev1.Node
	for i, z := range []struct{ zone, id, typ string }{
		{"us-east-1a", "use1-az4", "c5.large"}, {"us-east-1a", "use1-az4", "m5.large"}, {"us-east-1b", "use1-az6", "r5.large"},
	} {
		nodes = append(nodes, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "spot-" + string(rune('a'+i)), Labels: map[string]string{
			st.CapacityTypeLabel: st.SpotValue, placer.LabelInstanceType: z.typ, placer.LabelZone: z.zone, placer.LabelZoneID: z.id}}})
	}
	infos := placer.Nodes(nodes, st, config.DefaultPlacerSettings(), prices.ProductLinux)
	markets := spotMarkets(infos)
	s := &Scores{API: api, Region: "us-east-1"}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	rep := s.round(context.Background(), nil, nil, ecKey, now, infos, markets)
	if rep.Off != nil || rep.Err != nil || !rep.Read {
		t.Fatalf("round: off %v, err %v, read %v", rep.Off, rep.Err, rep.Read)
	}
	for _, m := range markets {
		got := rep.States[m]
		want, risky := 9, false
		if m.Zone == "us-east-1a" {
			want, risky = 2, true
		}
		if got.Last.Score != want || got.Risky != risky || !got.Fresh {
			t.Errorf("%s: %+v, want score %d risky %v", m, got, want, risky)
		}
	}
	calls := f.Calls()
	if len(calls) != 1 || calls[0].Get("Action") != "GetSpotPlacementScores" || calls[0].Get("TargetCapacity") != "4" {
		t.Errorf("calls %v, want one GetSpotPlacementScores for 4 instances (3 spot nodes rounded up) and no DescribeAvailabilityZones", calls)
	}
	// Within the period nothing is asked again.
	s.round(context.Background(), nil, nil, ecKey, now.Add(14*time.Minute), infos, markets)
	if n := len(f.Calls()); n != 1 {
		t.Errorf("%d calls within the 15-minute period, want 1", n)
	}
	for nodes, want := range map[int]int32{0: 1, 1: 1, 2: 2, 3: 4, 4: 4, 5: 8, 17: 32} {
		if got := s.target(nodes); got != want {
			t.Errorf("target(%d) = %d, want %d", nodes, got, want)
		}
	}
}

var ecKey = client.ObjectKey{Namespace: "trimtab-system", Name: "trimtab-spot-forecaster"}
