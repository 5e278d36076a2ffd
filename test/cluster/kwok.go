package cluster

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"sigs.k8s.io/yaml"
)

// startKwok runs kwok against the nodes annotated kwok.x-k8s.io/node=fake. It
// moves those nodes to Ready, keeps their leases fresh, and walks the pods the
// scheduler binds to them through their lifecycle (Running, Ready, deleted),
// reporting an in-place resize the apiserver accepted as applied (the
// pod-resize stage, kwokstages/pod-resize.yaml). With Config.KwokUsage it also emulates resource usage and serves it per
// node (kwokUsageConfigs); the objects go in --config beside the stages, so
// kwok needs no CRDs (--enable-crds is for objects read from the apiserver).
func (cl *Cluster) startKwok() (Process, error) {
	c := cl.Config
	stages, err := kwokStages(c.KwokStages)
	if err != nil {
		return Process{}, err
	}
	stages = append(stages, kwokResizeStage()...)
	stages = append(stages, kwokJobStopStage()...)
	if c.KwokUsage {
		usage, err := kwokUsageConfigs(c.KwokMetrics)
		if err != nil {
			return Process{}, err
		}
		stages = append(stages, usage...)
	}
	stageFile := c.path("kwok-stages.yaml")
	if err := os.WriteFile(stageFile, stages, 0o644); err != nil {
		return Process{}, err
	}
	return startProcess("kwok", filepath.Join(c.KwokBin, "kwok"), c.path("logs"),
		"--kubeconfig="+c.Kubeconfig(),
		"--config="+stageFile,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector="+kwokAnnotation+"=fake",
		"--node-ip=127.0.0.1",
		// The node stages are kwok's heartbeat-with-lease set: node status
		// is refreshed only every 10-20 min, liveness comes from each
		// node's Lease, renewed every 10 s as a kubelet renews it. The kwok
		// binary's default is no leases (only kwokctl sets 40 s), and then
		// the node lifecycle controller found every node silent a few
		// minutes after each status refresh: it marked them NotReady, and
		// their pods Ready=False, which kwok never undoes for a Running pod
		// (a rollout then stalled with "Running, not Ready" pods).
		"--node-lease-duration-seconds="+strconv.Itoa(nodeLeaseSeconds),
		// kwok binds 0.0.0.0 otherwise.
		"--server-address=127.0.0.1:"+strconv.Itoa(c.KwokPort))
}

// nodeLeaseSeconds is the duration kwok sets on its nodes' Leases, as a
// kubelet's default; kwok renews them every quarter of it.
const nodeLeaseSeconds = 40

// resizeStage is trimtab's own stage, beside kwok's: the kubelet's part of
// an in-place resize (see the file).
//
//go:embed kwokstages/pod-resize.yaml
var resizeStage []byte

// kwokResizeStage returns the pod-resize stage as one more document of the
// stage config.
func kwokResizeStage() []byte {
	return append([]byte("---\n"), resizeStage...)
}

// jobStopStage is trimtab's own stage: the kubelet's part in stopping a
// deleted Job pod, which carries the Job controller's finalizer (see the
// file).
//
//go:embed kwokstages/pod-job-stop.yaml
var jobStopStage []byte

// kwokJobStopStage returns the pod-job-stop stage as one more document of
// the stage config.
func kwokJobStopStage() []byte {
	return append([]byte("---\n"), jobStopStage...)
}

// kwokStages concatenates the stage configs shipped with kwok, dropping the
// delay (1 s + up to 5 s of jitter per step) from the pod stages: tests want
// pods Running as soon as they are bound. Only a pod's own delay stays (the
// stage's durationFrom: kwok's <stage>.stage.kwok.x-k8s.io/delay
// annotation, e.g. pod-complete's, which keeps a Job's pod running for as
// long as a test needs); a pod without it has none. Node heartbeats keep
// their timing.
func kwokStages(dir string) ([]byte, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no kwok stage configs in %s: run `make tools`", dir)
	}
	sort.Strings(files)
	var out bytes.Buffer
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, doc := range bytes.Split(raw, []byte("\n---")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			var stage map[string]any
			if err := yaml.Unmarshal(doc, &stage); err != nil {
				return nil, fmt.Errorf("parsing kwok stage %s: %w", f, err)
			}
			if kind, _ := dig(stage, "spec", "resourceRef", "kind").(string); kind == "Pod" {
				if spec, ok := stage["spec"].(map[string]any); ok {
					delay, _ := spec["delay"].(map[string]any)
					delete(spec, "delay")
					if from, ok := delay["durationFrom"]; ok {
						spec["delay"] = map[string]any{"durationFrom": from}
					}
				}
			}
			b, err := yaml.Marshal(stage)
			if err != nil {
				return nil, err
			}
			out.WriteString("---\n")
			out.Write(b)
		}
	}
	return out.Bytes(), nil
}

func dig(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// kwokUsageConfigs returns kwok's Metric "metrics-resource" (kubelet's
// /metrics/resource series under /metrics/nodes/{nodeName}/metrics/resource)
// and ClusterResourceUsage "usage-from-annotation" (container usage from the
// kwok.x-k8s.io/usage-cpu and usage-memory pod annotations), as copied by
// tools/build.sh from kwok's kustomize/metrics.
func kwokUsageConfigs(dir string) ([]byte, error) {
	var out bytes.Buffer
	for _, name := range []string{"metrics-resource.yaml", "usage-from-annotation.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("kwok usage config: %w; run `bash test/cluster/tools/build.sh kwok` (copies it from the module)", err)
		}
		out.WriteString("---\n")
		out.Write(bytes.TrimPrefix(b, []byte("---\n")))
		if !bytes.HasSuffix(b, []byte("\n")) {
			out.WriteString("\n")
		}
	}
	return out.Bytes(), nil
}
