package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/internal/manager"
	"github.com/trimtab-dev/trimtab/internal/speedclock"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/prices/ec2"
	"github.com/trimtab-dev/trimtab/prices/file"
	"github.com/trimtab-dev/trimtab/test/cluster"
	"github.com/trimtab-dev/trimtab/test/ec2fixture"
)

// TestPlacerScoreDropAdmitsOnDemand: the real manager with prices (calm:
// the trace from 03-17 11:30 at real speed) and placement scores read
// every 2 s from the fixture. A batch Deployment runs 2 pods on the spot
// node. When the spot zone's score drops to 2, the Decision's capacity
// turns on-demand with the score in its reason, and a third pod, made by
// scaling the Deployment, is placed on the on-demand node by the webhook
// saying why — while the 2 running pods stay where they are (no eviction
// request at all). When the score returns to 9 and stays there for the
// hysteresis (6 s here), the capacity goes back to spot.
func TestPlacerScoreDropAdmitsOnDemand(t *testing.T) {
	t.Parallel()
	s := newPlacerScene(t, []string{"spot"}, []string{"od"})
	spot, od := s.node("spot"), s.node("od")
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	hs, err := file.ReadFile(filepath.Join(root, "test/testdata/prices/c3.xlarge-2015-03-11-to-19.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	origin := time.Now()
	clk, err := speedclock.New(origin, 1)
	if err != nil {
		t.Fatal(err)
	}
	fx := &ec2fixture.Server{Region: "us-east-1", Offset: origin.Sub(time.Date(2015, 3, 17, 11, 30, 0, 0, time.UTC)), Now: clk.Now}
	fx.AddHistories(hs)
	fx.SetZones(ec2fixture.Zone{Name: "us-east-1a", ID: "use1-az4"})
	fx.SetScores(ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az4", Score: 9})
	srv := httptest.NewServer(fx) // 127.0.0.1 only
	t.Cleanup(srv.Close)
	s.startPlacer(func(o *manager.Options) {
		o.Clock = clk
		o.EC2 = ec2.NewClient("us-east-1", srv.URL, credentials.NewStaticCredentialsProvider("AKIDE2E", "secret", ""), ec2.RetryOptions{MaxAttempts: 2, MaxBackoff: time.Millisecond})
		o.PricePeriod = time.Minute
		o.PlacementScores, o.ScorePeriod = true, 2*time.Second
		o.ScoreRule = placer.ScoreRule{Risky: 3, Recover: 6, RecoverFor: 6 * time.Second, MaxAge: time.Minute}
		o.ScoreInstanceTypes = []string{"m3.xlarge", "r3.large"}
	})
	s.workload("etl", 2, policy(config.AnnotationClass, "batch", config.AnnotationMode, "enforce"))
	running := uids(s.waitPods("etl", 60*time.Second, 2, spot))
	capacity := func(want, reason string) {
		t.Helper()
		eventually(t, 30*time.Second, func() error {
			d := s.decision("etl")
			if d == nil {
				return fmt.Errorf("no Decision etl yet")
			}
			if d.Status.Capacity == nil || d.Status.Capacity.Rest != want || !strings.Contains(d.Status.Capacity.Reason, reason) {
				return fmt.Errorf("capacity %+v, want %s saying %q", d.Status.Capacity, want, reason)
			}
			return nil
		})
	}
	capacity("spot", "")

	drop := time.Now()
	fx.SetScores(ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az4", Score: 2})
	capacity("on-demand", "(use1-az4) spot placement score 2 (≤ 3)")
	t.Logf("capacity on-demand %.1fs after the score dropped: %s", time.Since(drop).Seconds(), s.decision("etl").Status.Capacity.Reason)

	// The webhook reads the Decision through the manager's cache: scale up
	// once it admits a pod of etl to on-demand (a server-side dry run, which
	// takes no slot of the base), however long the watch takes.
	admittedOnDemand(t, s.e, "etl")
	if _, err := s.e.cs.AppsV1().Deployments(s.e.namespace).Patch(context.Background(), "etl", types.MergePatchType, []byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	byNode := s.waitPods("etl", 60*time.Second, 3, spot, od)
	if len(byNode[od]) != 1 || len(byNode[spot]) != 2 {
		t.Fatalf("pods %s, want the new one on %s and the 2 running ones still on %s", where(byNode), od, spot)
	}
	if got := byNode[od][0].Annotations[config.AnnotationDecision]; !strings.HasPrefix(got, "on-demand (required)") || !strings.Contains(got, "spot placement score 2") {
		t.Errorf("new pod's %s %q, want on-demand (required) with the score", config.AnnotationDecision, got)
	} else {
		t.Logf("new pod: %s", got)
	}
	for _, p := range byNode[spot] {
		if _, ok := running[p.UID]; !ok {
			t.Errorf("pod %s on %s is not one of the running pods: something moved", p.Name, spot)
		}
	}

	// Through the drop, no eviction was even asked for.
	if acc, tooMany, other := s.evicts.counts(); len(acc) != 0 || tooMany != 0 || len(other) != 0 {
		t.Fatalf("eviction requests %v (429s %d, other %v) while the score was low: a score must never evict", acc, tooMany, other)
	}

	recovered := time.Now()
	fx.SetScores(ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az4", Score: 9})
	capacity("spot", "")
	back := time.Since(recovered)
	t.Logf("capacity back to spot %.1fs after the score recovered", back.Seconds())
	if back < 6*time.Second {
		t.Errorf("back to spot after %v, before the 6 s hysteresis", back)
	}
	// Back on spot, the pod admitted to on-demand may move back (the base
	// repair); the running spot pods are still never asked.
	for pod := range func() map[string]int { acc, _, _ := s.evicts.counts(); return acc }() {
		if pod != byNode[od][0].Name {
			t.Errorf("pod %s evicted: only the on-demand pod may move back", pod)
		}
	}
}

// admittedOnDemand waits until the pod webhook, asked with a server-side dry
// run for a pod of the Deployment's current ReplicaSet, sends it to
// on-demand.
func admittedOnDemand(t *testing.T, e *env, deployment string) {
	t.Helper()
	ctx := context.Background()
	eventually(t, 30*time.Second, func() error {
		rss, err := e.cs.AppsV1().ReplicaSets(e.namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, rs := range rss.Items {
			owner := metav1.GetControllerOf(&rs)
			if owner == nil || owner.Kind != "Deployment" || owner.Name != deployment || rs.Spec.Replicas == nil || *rs.Spec.Replicas == 0 {
				continue
			}
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{GenerateName: deployment + "-probe-", Labels: rs.Spec.Template.Labels,
					OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(&rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}},
				Spec: rs.Spec.Template.Spec,
			}
			got, err := e.cs.CoreV1().Pods(e.namespace).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err != nil {
				return err
			}
			if d := got.Annotations[config.AnnotationDecision]; !strings.HasPrefix(d, "on-demand") {
				return fmt.Errorf("a dry-run pod of %s is admitted with %s %q, want on-demand", rs.Name, config.AnnotationDecision, d)
			}
			return nil
		}
		return fmt.Errorf("no ReplicaSet of %s with replicas yet", deployment)
	})
}
