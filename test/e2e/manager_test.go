package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/transport"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/internal/manager"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

// runLabel narrows a test manager's webhook configurations to the namespaces
// carrying it, so managers of concurrent tests (and a `make run` manager)
// never both mutate one namespace's pods.
const runLabel = cluster.TestRunLabel

// testManager is trimtab's real manager (internal/manager.New, as `trimtab
// manager` builds it) running in the test process, serving its webhooks on
// 127.0.0.1, registered with the local apiserver by URL.
type testManager struct {
	name   string
	cancel context.CancelFunc
	done   chan error
	// stopped makes stop idempotent: a test that stops its manager early
	// does not wait again at cleanup.
	stopped sync.Once
}

var managerLogOnce sync.Once

// setManagerLog sends the in-process managers' logs to
// .cluster/logs/e2e-manager.log, beside the control plane's, instead of
// controller-runtime's "SetLogger was never called" stack dumps.
func setManagerLog(t testing.TB, clusterDir string) {
	path := filepath.Join(clusterDir, "logs", "e2e-manager.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("opening the manager log: %v", err)
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(f)))
}

// startManager starts a manager and registers its webhooks; both are torn
// down when the test ends. opts adjust its options; a decision controller,
// if one is turned on, decides only the namespaces routed to this manager
// unless an option says otherwise.
func startManager(t testing.TB, opts ...func(*manager.Options)) *testManager {
	t.Helper()
	return startManagerWrapped(t, nil, opts...)
}

// startManagerWrapped is startManager with the manager's API transport
// wrapped by wrap (nil: none), for a test that watches the requests the
// manager makes (the placer's evictions).
func startManagerWrapped(t testing.TB, wrap transport.WrapperFunc, opts ...func(*manager.Options)) *testManager {
	t.Helper()
	cl := cluster.Start(t)
	managerLogOnce.Do(func() { setManagerLog(t, cl.Config.Dir) })
	cfg, err := cl.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		cfg.Wrap(wrap)
	}
	cs, err := cl.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	certDir := t.TempDir()
	ca, err := cluster.DevWebhookCerts(certDir)
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	settings := config.DefaultSettings()
	name := "trimtab-e2e-" + rand.String(6)
	o := manager.Options{
		Settings:           settings,
		MetricsAddr:        "0",
		ProbeAddr:          "0",
		WebhookHost:        "127.0.0.1",
		WebhookPort:        port,
		CertDir:            certDir,
		DecisionNamespaces: labels.SelectorFromSet(labels.Set{runLabel: name}),
	}
	for _, f := range opts {
		f(&o)
	}
	mgr, err := manager.New(cfg, o)
	if err != nil {
		t.Fatalf("creating manager: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &testManager{name: name, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- mgr.Start(ctx) }()
	t.Cleanup(m.stop)
	eventually(t, 30*time.Second, func() error { return mgr.GetWebhookServer().StartedChecker()(nil) })

	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	if err := cluster.RegisterWebhooks(context.Background(), cs, m.name, url, ca, settings, m.name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.UnregisterWebhooks(context.Background(), cs, m.name); err != nil {
			t.Errorf("unregistering webhooks: %v", err)
		}
	})
	return m
}

// stop stops the manager and waits for it to exit.
func (m *testManager) stop() {
	m.stopped.Do(func() {
		m.cancel()
		select {
		case <-m.done:
		case <-time.After(30 * time.Second):
		}
	})
}

// optedIn returns the namespace labels that opt a namespace in and route it
// to this manager.
func (m *testManager) optedIn() map[string]string {
	return map[string]string{config.NamespaceLabel: config.NamespaceLabelValue, runLabel: m.name}
}

// waitActive waits until the apiserver calls this manager's webhooks for the
// namespace: the apiserver picks up new webhook configurations
// asynchronously. A server-side dry run of a Deployment with a bad policy is
// refused once the validating webhook is live.
func (e *env) waitActive(t testing.TB) {
	t.Helper()
	probe := deployment("probe", 1, map[string]string{config.AnnotationClass: "not-a-class"})
	eventually(t, 30*time.Second, func() error {
		_, err := e.cs.AppsV1().Deployments(e.namespace).Create(context.Background(), probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if apierrors.IsInvalid(err) {
			return nil
		}
		return fmt.Errorf("webhook not active yet (dry-run create returned %v)", err)
	})
}

// deployment is a Deployment of pause pods with small requests.
func deployment(name string, replicas int32, annotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: "registry.k8s.io/pause:3.10",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resourceMust("50m"), corev1.ResourceMemory: resourceMust("32Mi"),
					}},
				}}},
			},
		},
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
