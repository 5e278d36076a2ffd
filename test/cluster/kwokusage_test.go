package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestKwokUsage: a pod's usage annotations reach Prometheus as kubelet's
// resource series, labelled with the pod's node, and a changed annotation
// changes the series.
func TestKwokUsage(t *testing.T) {
	cl := Start(t)
	if !cl.Config.KwokUsage {
		t.Skip("the cluster runs kwok without usage emulation")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base, err := cl.StartPrometheus(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	client, err := promapi.NewClient(promapi.Config{Address: base})
	if err != nil {
		t.Fatal(err)
	}
	api := promv1.NewAPI(client)
	cs, err := cl.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "kwok-usage-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{}) })
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns.Name, Annotations: map[string]string{
			"kwok.x-k8s.io/usage-cpu": "250m", "kwok.x-k8s.io/usage-memory": "300Mi",
		}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "example/app"}}},
	}
	start := time.Now()
	if _, err := cs.CoreV1().Pods(ns.Name).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var node string
	poll(t, ctx, "pod scheduled", func() error {
		p, err := cs.CoreV1().Pods(ns.Name).Get(ctx, "app", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if node = p.Spec.NodeName; node == "" {
			return fmt.Errorf("not scheduled yet")
		}
		return nil
	})
	sel := fmt.Sprintf(`{job=%q,namespace=%q,pod="app",container="main",node=%q}`, kwokNodesJob, ns.Name, node)
	value := func(q string) (float64, error) {
		v, _, _, err := api.Query(ctx, q, time.Now())
		if err != nil {
			return 0, err
		}
		vec, ok := v.(model.Vector)
		if !ok || len(vec) != 1 {
			return 0, fmt.Errorf("%s: got %v, want one series", q, v)
		}
		return float64(vec[0].Value), nil
	}
	want := func(q string, lo, hi float64) func() error {
		return func() error {
			v, err := value(q)
			if err != nil {
				return err
			}
			if v < lo || v > hi {
				return fmt.Errorf("%s = %v, want %v..%v", q, v, lo, hi)
			}
			return nil
		}
	}
	poll(t, ctx, "memory from the annotation", want("container_memory_working_set_bytes"+sel, 300<<20, 300<<20))
	poll(t, ctx, "cpu from the annotation", want("irate(container_cpu_usage_seconds_total"+sel+"[1m])", 0.24, 0.26))
	t.Logf("usage in Prometheus %.1fs after the pod was created (on %s)", time.Since(start).Seconds(), node)

	start = time.Now()
	patch := []byte(`{"metadata":{"annotations":{"kwok.x-k8s.io/usage-memory":"1Gi"}}}`)
	if _, err := cs.CoreV1().Pods(ns.Name).Patch(ctx, "app", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "memory after the annotation changed", want("container_memory_working_set_bytes"+sel, 1<<30, 1<<30))
	t.Logf("changed usage in Prometheus %.1fs after the patch", time.Since(start).Seconds())
}
