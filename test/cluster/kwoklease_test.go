package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKwokRenewsNodeLeases: every default node has a Lease in
// kube-node-lease that kwok renews, as a kubelet does, so the node lifecycle
// controller sees the nodes alive between kwok's node status refreshes
// (every 10-20 min with the heartbeat-with-lease stages). Without the
// Leases it marked all nodes NotReady a few minutes after each refresh, and
// their pods Ready=False for good: a rollout stalled with Running pods that
// never became available.
func TestKwokRenewsNodeLeases(t *testing.T) {
	cl := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := cl.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	leases := cs.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	renewed := func(name string) (time.Time, error) {
		l, err := leases.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return time.Time{}, fmt.Errorf("node %s: %w", name, err)
		}
		if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
			return time.Time{}, fmt.Errorf("node %s: lease without a renew time or duration: %+v", name, l.Spec)
		}
		if got := *l.Spec.LeaseDurationSeconds; got != nodeLeaseSeconds {
			return time.Time{}, fmt.Errorf("node %s: lease duration %d s, want %d", name, got, nodeLeaseSeconds)
		}
		return l.Spec.RenewTime.Time, nil
	}
	first := map[string]time.Time{}
	for _, n := range cl.Config.Nodes {
		at, err := renewed(n.Name)
		if err != nil {
			t.Fatal(err)
		}
		first[n.Name] = at
	}
	// kwok renews every quarter of the duration (10 s): each lease must
	// move on before it would expire.
	deadline := time.Now().Add(nodeLeaseSeconds * time.Second)
	for name, at := range first {
		for {
			now, err := renewed(name)
			if err != nil {
				t.Fatal(err)
			}
			if now.After(at) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s: lease not renewed since %s", name, at.Format(time.TimeOnly))
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}
