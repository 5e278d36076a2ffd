package fit_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/placer/fit"
	"github.com/trimtab-dev/trimtab/placer/fit/fittest"
)

// FuzzPlace: random clusters, some nodes stripped of every label and
// allocatable, never make fit panic, and every pod gets a verdict.
func FuzzPlace(f *testing.F) {
	for _, seed := range []uint64{1, 2, 3} {
		f.Add(seed, uint8(3))
	}
	f.Fuzz(func(t *testing.T, seed uint64, strip uint8) {
		sc := fittest.Generate(seed, fittest.Options{Nodes: 6, Pods: 30, NamespaceSelectors: true})
		for i, n := range sc.Nodes {
			if strip&(1<<(i%8)) != 0 {
				n.Labels = nil
				n.Status = corev1.NodeStatus{}
			}
		}
		c := fit.New(fit.Snapshot{Nodes: sc.Nodes})
		for _, p := range sc.Pods {
			if pl := c.Place(p); pl.Message() == "" {
				t.Fatalf("pod %s: no verdict", p.Name)
			}
		}
	})
}
