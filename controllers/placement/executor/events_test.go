package executor

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/placer"
)

// TestEveryEvictionHasItsEvent: a round evicting three pods of one
// workload leaves three Evicted Events on its Decision, each naming its
// pod, with the pod as the related object. Before, the events recorder
// folded them into one series (same Decision, reason and action): one
// Event naming the first pod, the others' names lost (seen on the demo
// cluster: 4 pods moved back, 2 Evicted Events).
func TestEveryEvictionHasItsEvent(t *testing.T) {
	h := newHarness(t, settings())
	w, pods := h.workload("etl", config.ClassBatch, 3)
	if _, err := h.ex.Apply(context.Background(), placer.Input{Workloads: []placer.Workload{w}},
		placer.Result{Plans: map[placer.Key][]placer.Move{w.Key: h.evictAll(w, pods)}}); err != nil {
		t.Fatal(err)
	}
	if got := h.spy.evictions(); len(got) != 3 {
		t.Fatalf("evicted %v, want all 3", got)
	}
	var named, wrong []string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		list, err := h.cs.EventsV1().Events(h.ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		named, wrong = nil, nil
		for _, e := range list.Items {
			if e.Reason != "Evicted" || e.Regarding.Name != "etl" {
				continue
			}
			rel := "<none>"
			if e.Related != nil {
				rel = e.Related.Kind + "/" + e.Related.Name
			}
			if !strings.Contains(e.Note, h.ns+"/"+rel[strings.Index(rel, "/")+1:]+" ") {
				wrong = append(wrong, rel+": "+e.Note)
			}
			named = append(named, rel)
		}
		if len(named) == 3 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(wrong) > 0 {
		t.Errorf("Events whose related object is not the pod they name: %q", wrong)
	}
	sort.Strings(named)
	if strings.Join(named, ",") != "Pod/etl-0,Pod/etl-1,Pod/etl-2" {
		t.Errorf("Evicted Events with related %v, want one per pod: Pod/etl-0, Pod/etl-1, Pod/etl-2", named)
	}
}
