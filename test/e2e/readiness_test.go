package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/internal/manager"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

// TestReadyOnlyWhenCachesSynced: the manager's /readyz passes only once the
// informers the webhooks read have synced. It used to pass as soon as the
// webhook server listened, so the first admissions after a start were
// answered from caches still listing.
func TestReadyOnlyWhenCachesSynced(t *testing.T) {
	t.Parallel()
	cl := cluster.Start(t)
	cfg, err := cl.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	certDir := t.TempDir()
	if _, err := cluster.DevWebhookCerts(certDir); err != nil {
		t.Fatal(err)
	}
	probe := freePort(t)
	mgr, err := manager.New(cfg, manager.Options{
		Settings: config.DefaultSettings(), MetricsAddr: "0", ProbeAddr: fmt.Sprintf("127.0.0.1:%d", probe),
		WebhookHost: "127.0.0.1", WebhookPort: freePort(t), CertDir: certDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	readyz := fmt.Sprintf("http://127.0.0.1:%d/readyz", probe)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(readyz)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never passed (last: %v)", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The moment /readyz first passes, every informer the webhooks read
	// exists and has synced: asking for one does not start a new list.
	for _, k := range []client.Object{&corev1.Pod{}, &appsv1.ReplicaSet{}, &appsv1.Deployment{}, &appsv1.StatefulSet{},
		&batchv1.Job{}, &batchv1.CronJob{}, &autoscalingv2.HorizontalPodAutoscaler{}} {
		inf, err := mgr.GetCache().GetInformer(ctx, k, cache.BlockUntilSynced(false))
		if err != nil {
			t.Fatal(err)
		}
		if !inf.HasSynced() {
			t.Errorf("/readyz passed before the %T informer synced", k)
		}
	}
}
