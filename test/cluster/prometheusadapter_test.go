package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPrometheusAdapter runs the metrics APIs end to end: a load gauge and
// kwok's emulated CPU usage, scraped by Prometheus, served by
// prometheus-adapter through the aggregation layer, drive a real HPA in
// kube-controller-manager (ScalingActive=True with an external and a
// resource metric).
func TestPrometheusAdapter(t *testing.T) {
	cl := Start(t)
	if !cl.Config.KwokUsage {
		t.Skip("the cluster runs kwok without usage emulation")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	workload := "adapter-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	const load = 450.0
	addr := serveLoad(t, workload, load)
	if _, err := cl.StartPrometheus(ctx, []string{addr}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cl.StartPrometheusAdapter(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("StartPrometheusAdapter: %.1fs", time.Since(start).Seconds())
	start = time.Now()
	if err := cl.StartPrometheusAdapter(ctx, nil); err != nil {
		t.Fatalf("second StartPrometheusAdapter: %v", err)
	}
	t.Logf("StartPrometheusAdapter again (reuse): %.2fs", time.Since(start).Seconds())

	cs, err := cl.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "adapter-test-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{}) })

	start = time.Now()
	poll(t, ctx, "external metric served", func() error {
		raw, err := cs.RESTClient().Get().AbsPath("/apis/external.metrics.k8s.io/v1beta1/namespaces", ns.Name, "trimtab_test_load").
			Param("labelSelector", "workload="+workload).DoRaw(ctx)
		if err != nil {
			return err
		}
		var list struct {
			Items []struct {
				Value resource.Quantity `json:"value"`
			} `json:"items"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return err
		}
		if len(list.Items) != 1 || list.Items[0].Value.AsApproximateFloat64() != load {
			return fmt.Errorf("got %s, want one value %v", raw, load)
		}
		return nil
	})
	t.Logf("external metric served: %.1fs", time.Since(start).Seconds())

	replicas := int32(2)
	labels := map[string]string{"app": "adapter-test"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns.Name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					"kwok.x-k8s.io/usage-cpu": "300m", "kwok.x-k8s.io/usage-memory": "200Mi",
				}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "example/app",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}},
				}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments(ns.Name).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	poll(t, ctx, "pod metrics from kwok's usage", func() error {
		raw, err := cs.RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces", ns.Name, "pods").DoRaw(ctx)
		if err != nil {
			return err
		}
		var list struct {
			Items []struct {
				Containers []struct {
					Usage corev1.ResourceList `json:"usage"`
				} `json:"containers"`
			} `json:"items"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return err
		}
		if len(list.Items) != int(replicas) {
			return fmt.Errorf("%d pods with metrics, want %d", len(list.Items), replicas)
		}
		for _, p := range list.Items {
			cpu := p.Containers[0].Usage.Cpu().MilliValue()
			mem := p.Containers[0].Usage.Memory().Value()
			if cpu < 290 || cpu > 310 || mem != 200<<20 {
				return fmt.Errorf("pod usage cpu %dm memory %d, want 300m and 200Mi", cpu, mem)
			}
		}
		return nil
	})
	t.Logf("pod metrics (metrics.k8s.io) from kwok's usage: %.1fs after the Deployment", time.Since(start).Seconds())

	avg := resource.MustParse("100")
	util := int32(200)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns.Name},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    10,
			Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "trimtab_test_load", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"workload": workload}}},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &avg},
				}},
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &util},
				}},
			},
		},
	}
	if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns.Name).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	poll(t, ctx, "HPA ScalingActive with both metrics", func() error {
		got, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns.Name).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		active := false
		for _, c := range got.Status.Conditions {
			if c.Type == autoscalingv2.ScalingActive {
				if c.Status != corev1.ConditionTrue {
					return fmt.Errorf("ScalingActive=%s: %s: %s", c.Status, c.Reason, c.Message)
				}
				active = true
			}
		}
		if !active || len(got.Status.CurrentMetrics) != 2 {
			return fmt.Errorf("conditions %v, current metrics %v", got.Status.Conditions, got.Status.CurrentMetrics)
		}
		// 450 over 100 per pod wants 5 replicas; 300% of requests over a
		// 200% target wants 3 of 2.
		if got.Status.DesiredReplicas != 5 {
			return fmt.Errorf("desired replicas %d, want 5 (current metrics %+v)", got.Status.DesiredReplicas, got.Status.CurrentMetrics)
		}
		return nil
	})
	t.Logf("HPA ScalingActive=True, desired 5 from the external metric: %.1fs after creation", time.Since(start).Seconds())
}

// serveLoad serves trimtab_test_load{workload=...} = value on 127.0.0.1 until
// the test ends and returns its address.
func serveLoad(t *testing.T, workload string, value float64) string {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trimtab_test_load", Help: "A load the test reads back through the external metrics API."}, []string{"workload"})
	reg.MustRegister(g)
	g.WithLabelValues(workload).Set(value)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}
