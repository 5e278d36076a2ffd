package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/trimtab-dev/trimtab/config"
)

// The version constants name the cache directories; they must match what the
// tools modules pin, or Up would look for binaries build.sh never made.
func TestVersionsMatchToolsModules(t *testing.T) {
	for _, c := range []struct{ dir, module, want string }{
		{"kubernetes", "k8s.io/kubernetes", KubernetesVersion},
		{"etcd", "go.etcd.io/etcd/server/v3", EtcdVersion},
		{"kwok", "sigs.k8s.io/kwok", KwokVersion},
		{"helm", "helm.sh/helm/v3", HelmVersion},
		{"certmanager", "github.com/cert-manager/cert-manager", CertManagerVersion},
		{"controllergen", "sigs.k8s.io/controller-tools", ControllerGenVersion},
		{"prometheusadapter", "sigs.k8s.io/prometheus-adapter", PrometheusAdapterVersion},
	} {
		path := filepath.Join("tools", c.dir, "go.mod")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := modfile.Parse(path, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, r := range f.Require {
			if r.Mod.Path == c.module {
				got = r.Mod.Version
			}
		}
		if got != c.want {
			t.Errorf("%s pins %s %q, but the cluster package expects %q", path, c.module, got, c.want)
		}
	}
}

func TestDefaultNodes(t *testing.T) {
	nodes := DefaultNodes()
	if len(nodes) != 8 {
		t.Fatalf("got %d nodes, want 2 zones × 2 capacity types × 2 instance types = 8", len(nodes))
	}
	taint, err := config.ParseTaint(DefaultSpotTaint)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, spec := range nodes {
		n, err := spec.node(&taint)
		if err != nil {
			t.Fatal(err)
		}
		if seen[n.Name] {
			t.Errorf("duplicate node name %s", n.Name)
		}
		seen[n.Name] = true
		key := n.Labels[LabelZone] + "/" + n.Labels[LabelCapacityType] + "/" + n.Labels[LabelInstanceType]
		if seen[key] {
			t.Errorf("duplicate node shape %s", key)
		}
		seen[key] = true
		if spot := n.Labels[LabelCapacityType] == CapacitySpot; spot != (len(n.Spec.Taints) == 1) {
			t.Errorf("node %s: capacity %s but taints %v", n.Name, n.Labels[LabelCapacityType], n.Spec.Taints)
		}
		if n.Status.Allocatable.Cpu().IsZero() || n.Status.Allocatable.Memory().IsZero() || n.Status.Allocatable.Pods().IsZero() {
			t.Errorf("node %s: allocatable %v lacks cpu, memory or pods", n.Name, n.Status.Allocatable)
		}
	}
}

func TestKwokStagesDropPodDelays(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("node.yaml", "kind: Stage\nmetadata:\n  name: node-heartbeat\nspec:\n  resourceRef:\n    kind: Node\n  delay:\n    durationMilliseconds: 20000\n")
	write("pod.yaml", "kind: Stage\nmetadata:\n  name: pod-ready\nspec:\n  resourceRef:\n    kind: Pod\n  delay:\n    durationMilliseconds: 1000\n---\nkind: Stage\nmetadata:\n  name: pod-delete\nspec:\n  resourceRef:\n    kind: Pod\n"+
		"---\nkind: Stage\nmetadata:\n  name: pod-complete\nspec:\n  resourceRef:\n    kind: Pod\n  delay:\n    durationMilliseconds: 1000\n    jitterDurationMilliseconds: 5000\n    durationFrom:\n      expressionFrom: '.metadata.annotations[\"pod-complete.stage.kwok.x-k8s.io/delay\"]'\n")
	out, err := kwokStages(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Count(s, "kind: Stage") != 4 {
		t.Errorf("want 4 stages, got:\n%s", s)
	}
	if strings.Count(s, "delay:") != 2 || !strings.Contains(s, "20000") || strings.Contains(s, "1000\n") || strings.Contains(s, "jitter") ||
		!strings.Contains(s, `pod-complete.stage.kwok.x-k8s.io/delay`) {
		t.Errorf("want the node heartbeat's delay kept, and of the pods' only pod-complete's delay from its annotation, got:\n%s", s)
	}
	if _, err := kwokStages(t.TempDir()); err == nil || !strings.Contains(err.Error(), "make tools") {
		t.Errorf("empty stage dir: got %v, want an error saying to run make tools", err)
	}
}

func TestKwokUsageConfigs(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"metrics-resource.yaml":      "kind: Metric\napiVersion: kwok.x-k8s.io/v1alpha1\nmetadata:\n  name: metrics-resource\n",
		"usage-from-annotation.yaml": "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterResourceUsage\nmetadata:\n  name: usage-from-annotation", // no final newline
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := kwokUsageConfigs(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Count(s, "---\n") != 2 || !strings.Contains(s, "kind: Metric\n") || !strings.HasSuffix(s, "name: usage-from-annotation\n") {
		t.Errorf("want two documents, Metric then ClusterResourceUsage, newline-terminated:\n%s", s)
	}
	if _, err := kwokUsageConfigs(t.TempDir()); err == nil || !strings.Contains(err.Error(), "build.sh kwok") {
		t.Errorf("missing configs: got %v, want an error naming build.sh kwok", err)
	}
}
