package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/webhook/mutating"
)

// TestLedgerThroughAPIServer (issue 17, item 4), through the real
// apiserver and the `trimtab manager` binary:
//
//   - bare pods carrying a copied decision and placement label do not count
//     toward a workload's on-demand base (3 such pods used to leave a
//     base-3 Deployment all spot): the Ledger counts only pods with a
//     controller reference, by their controller's UID;
//   - the placements reserved for 30 one-pod Jobs are released as their
//     pods appear, so trimtab_pending_placements returns to where it began
//     (it used to rise by 30 and stay: reservations ended only when the
//     same workload placed another pod), well before the 30 s expiry.
//
// Not tested here: an admission the apiserver gave up on reserving
// nothing. After the webhook timeout the apiserver resets the HTTP/2
// stream, so a frozen manager usually never reads the request at all;
// which case happens is not deterministic. The Ledger's context checks are
// unit tested (webhook/mutating TestLedgerLockPerRevisionHonoursContext
// and deadline_test.go).
func TestLedgerThroughAPIServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	metricsPort := freePort(t)
	p := startManagerProcess(t, fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metricsPort), "--metrics-secure=false")
	e := newEnv(t, p.optedIn())
	e.waitActive(t)
	e.deletePodsNow(t, "copied=yes")

	pending := func() (float64, error) { return scrapeGauge(ctx, metricsPort, "trimtab_pending_placements") }
	var start float64
	eventually(t, 30*time.Second, func() (err error) { start, err = pending(); return err })

	// Copies of a base pod's decision, as anyone may write them.
	for i := range 3 {
		d := fmt.Sprintf(`{"admissionID":"copied-%d","workload":"Deployment/web","mode":"enforce","placement":"on-demand","required":true,"base":true,"reason":"copied"}`, i)
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name:        fmt.Sprintf("copied-%d", i),
				Labels:      map[string]string{"copied": "yes", mutating.LabelPlacement: string(capacity.OnDemand)},
				Annotations: map[string]string{config.AnnotationDecisionJSON: d, config.AnnotationDecision: "on-demand (required): copied"},
			},
			Spec: corev1.PodSpec{
				NodeName:   "copied-nowhere", // never runs
				Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}},
			},
		}
		if _, err := e.cs.CoreV1().Pods(e.namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	dep := deployment("web", 6, map[string]string{
		config.AnnotationCapacity: "auto", config.AnnotationOnDemandBase: "3", config.AnnotationMode: "enforce",
	})
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := placements(e.waitRunning(t, "app=web", 6)); got[string(capacity.OnDemand)] != 3 || got[string(capacity.Spot)] != 3 {
		t.Errorf("beside 3 bare pods copying an on-demand base decision: placements %v, want 3 on-demand and 3 spot", got)
	}

	// 30 one-pod Jobs: each reserves a placement, released when its pod
	// appears in the manager's cache.
	eventually(t, 30*time.Second, func() (err error) {
		if start, err = pending(); err == nil && start != 0 {
			err = fmt.Errorf("%v placements still pending from the Deployment", start)
		}
		return err
	})
	const jobs = 30
	created := time.Now()
	for i := range jobs {
		if _, err := e.cs.BatchV1().Jobs(e.namespace).Create(ctx, oneShotJob(fmt.Sprintf("job-%02d", i)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	peak := start
	eventually(t, 25*time.Second, func() error {
		v, err := pending()
		if err != nil {
			return err
		}
		peak = max(peak, v)
		pods, err := e.cs.CoreV1().Pods(e.namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=oneshot," + mutating.LabelPlacement})
		if err != nil {
			return err
		}
		if len(pods.Items) < jobs || v != start {
			return fmt.Errorf("%d of %d Job pods placed; %v placements pending, want %v", len(pods.Items), jobs, v, start)
		}
		return nil
	})
	t.Logf("30 Jobs: all pods placed and trimtab_pending_placements back to %v (peak seen %v) %.1fs after the first create",
		start, peak, time.Since(created).Seconds())
}

// oneShotJob is a Job of one pause pod, placed on spot.
func oneShotJob(name string) *batchv1.Job {
	labels := map[string]string{"app": "oneshot"}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{
			config.AnnotationCapacity: "spot", config.AnnotationMode: "enforce",
		}},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](0),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}},
				},
			},
		},
	}
}

// scrapeGauge reads an unlabelled gauge from the manager's plain-HTTP
// /metrics.
func scrapeGauge(ctx context.Context, port int, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	s := bufio.NewScanner(resp.Body)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	if err := s.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in /metrics", name)
}
