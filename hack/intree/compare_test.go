package intree

import (
	"flag"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/trimtab-dev/trimtab/placer/fit"
	"github.com/trimtab-dev/trimtab/placer/fit/fittest"
)

var scenarios = flag.Int("scenarios", 300, "random scenarios to compare")

// TestAgreement places the pods of seeded random scenarios with fit and with
// kube-scheduler's in-tree plugins and compares, pod by pod: whether it
// fits, the feasible nodes, every feasible node's total score, the chosen
// node (both take the first of the top-scored nodes in snapshot order) and,
// for a pod no node takes, the scheduler's message. After each pod both
// bind it where the plugins put it, so one disagreement doesn't cascade.
func TestAgreement(t *testing.T) {
	var pods, feasibility, feasibleSets, chosen, messages, unschedulable int
	for seed := uint64(1); seed <= uint64(*scenarios); seed++ {
		sc := fittest.Generate(seed, fittest.Options{Nodes: 6 + int(seed%10), Pods: 50, Namespace: "ns", NamespaceSelectors: true})
		snap := fit.Snapshot{
			Nodes:      sc.Nodes,
			Namespaces: []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "ns", Labels: map[string]string{"team": "a"}}}},
		}
		sim, err := New(snap)
		if err != nil {
			t.Fatal(err)
		}
		c := fit.New(snap)
		for _, p := range sc.Pods {
			p.UID = types.UID(fmt.Sprintf("%d-%s", seed, p.Name))
			want, err := sim.Evaluate(p)
			if err != nil {
				t.Fatalf("seed %d pod %s: in-tree plugins: %v", seed, p.Name, err)
			}
			got, verdicts := c.Explain(p)
			pods++
			where := fmt.Sprintf("seed %d pod %s", seed, p.Name)
			if got.Scheduled() != (want.Node != "") {
				t.Errorf("%s: fit says %q, the plugins %q / %q", where, got.Message(), want.Node, want.Message)
			} else {
				feasibility++
			}
			var feasible []string
			for _, v := range verdicts {
				if len(v.Reasons) == 0 {
					feasible = append(feasible, v.Node)
				}
			}
			if slices.Equal(feasible, want.Feasible) {
				feasibleSets++
			} else {
				t.Errorf("%s: feasible nodes: fit %v, plugins %v", where, feasible, want.Feasible)
			}
			if want.Node == "" {
				unschedulable++
				if got.Message() == want.Message {
					messages++
				} else {
					t.Errorf("%s: message:\n fit     %s\n plugins %s", where, got.Message(), want.Message)
				}
				continue
			}
			if got.Node == want.Node {
				chosen++
			} else {
				t.Errorf("%s: chosen node: fit %s, plugins %s (best %v)", where, got.Node, want.Node, want.Best)
			}
			if len(want.Scores) > 0 {
				for _, v := range verdicts {
					if s, ok := want.Scores[v.Node]; ok && s != v.Score {
						t.Errorf("%s: node %s score: fit %d %v, plugins %d", where, v.Node, v.Score, v.Scores, s)
					}
				}
			}
			if err := sim.Bind(p, want.Node); err != nil {
				t.Fatal(err)
			}
			if err := c.Bind(p, want.Node); err != nil {
				t.Fatal(err)
			}
		}
	}
	pct := func(n, d int) float64 { return 100 * float64(n) / float64(max(d, 1)) }
	t.Logf("%d scenarios, %d pods (%d unschedulable): feasibility %.2f%%, feasible sets %.2f%%, chosen node %.2f%%, messages %.2f%%",
		*scenarios, pods, unschedulable, pct(feasibility, pods), pct(feasibleSets, pods), pct(chosen, pods-unschedulable), pct(messages, unschedulable))
}

// TestAgreementLarge compares on the benchmarks' production-shaped mix:
// 100 nodes, 1,000 pods of ReplicaSets, so default spreading scores every
// pod.
func TestAgreementLarge(t *testing.T) {
	l := fittest.GenerateLarge(3, 100, 1000)
	snap := fit.Snapshot{Nodes: l.Nodes, ReplicaSets: l.ReplicaSets}
	sim, err := New(snap)
	if err != nil {
		t.Fatal(err)
	}
	c := fit.New(snap)
	same := 0
	for _, p := range l.Pods {
		want, err := sim.Place(p)
		if err != nil {
			t.Fatal(err)
		}
		got := c.Place(p)
		if got.Node == want.Node {
			same++
			continue
		}
		t.Errorf("pod %s: fit %s, plugins %s (best %v)", p.Name, got.Message(), want.Node, want.Best)
		if got.Node != "" {
			c.Remove(p.Namespace, p.Name)
		}
		if want.Node != "" {
			if err := c.Bind(p, want.Node); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%d of %d pods placed alike", same, len(l.Pods))
}
