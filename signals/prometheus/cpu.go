package prometheus

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// cpuSeries selects containers' cumulative CPU time as the kubelet exports
// it, from cAdvisor (/metrics/cadvisor) and from its resource endpoint
// (/metrics/resource, what metrics-server and so the HPA read); both use this
// name and these labels. container!="" drops cAdvisor's pod-level cgroup
// series, which would count every container twice; container!="POD" drops
// the pause container that dockershim-era kubelets report.
const cpuSeries = `container_cpu_usage_seconds_total{container!="",container!="POD",pod!="",namespace=~"%s"}`

// cpuQueries are PodCPU's two parts. Usage: the per-second rate of each
// container's CPU time, max'ed per container so a container scraped twice
// (cAdvisor and the resource endpoint, or two jobs) counts once, then
// summed per pod. Freshness: the newest raw sample per pod.
func cpuQueries(namespaces []string, window time.Duration) (usage, fresh string) {
	quoted := make([]string, len(namespaces))
	for i, ns := range namespaces {
		quoted[i] = regexp.QuoteMeta(ns)
	}
	sel := fmt.Sprintf(cpuSeries, strings.Join(quoted, "|"))
	usage = fmt.Sprintf("sum by (namespace, pod) (max by (namespace, pod, container) (rate(%s[%s])))", sel, model.Duration(window))
	fresh = fmt.Sprintf("max by (namespace, pod) (timestamp(%s))", sel)
	return usage, fresh
}

// PodCPU implements Reader. Namespaces share requests: their names are
// joined into one regular-expression matcher, so a sync costs one request
// whatever the number of namespaces, more only past Config.MaxBatchBytes.
func (c *Client) PodCPU(ctx context.Context, namespaces []string, at time.Time) ([]PodCPU, error) {
	var out []PodCPU
	batches := pack(namespaces, math.MaxInt, c.cfg.MaxBatchBytes/2, func(ns string) int { return 2 * len(ns) })
	for _, b := range batches {
		pods, err := c.podCPU(ctx, b, at)
		if err != nil {
			return nil, err
		}
		out = append(out, pods...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Pod < out[j].Pod
	})
	return out, nil
}

func (c *Client) podCPU(ctx context.Context, namespaces []string, at time.Time) ([]PodCPU, error) {
	usage, fresh := cpuQueries(namespaces, c.cfg.CPURateWindow)
	q := join([]part{{tag: "u", vector: usage}, {tag: "t", vector: fresh}})
	v, _, _, err := c.api.Query(ctx, q, at, promv1.WithTimeout(c.cfg.Timeout))
	if err != nil {
		_, err = classify(err)
		return nil, fmt.Errorf("reading pod CPU usage in %s: %w", strings.Join(namespaces, ", "), err)
	}
	got, err := splitVector(v)
	if err != nil {
		return nil, err
	}
	type key struct{ ns, pod string }
	newest := map[key]time.Time{}
	for _, s := range got["t"] {
		sec, frac := math.Modf(float64(s.Value))
		newest[key{string(s.Metric["namespace"]), string(s.Metric["pod"])}] = time.Unix(int64(sec), int64(frac*1e9))
	}
	var out []PodCPU
	for _, s := range got["u"] {
		k := key{string(s.Metric["namespace"]), string(s.Metric["pod"])}
		t, ok := newest[k]
		if !ok || (c.cfg.MaxSampleAge > 0 && at.Sub(t) > c.cfg.MaxSampleAge) {
			continue // stale: the pod's containers stopped reporting
		}
		cores := float64(s.Value)
		if math.IsNaN(cores) || math.IsInf(cores, 0) {
			continue
		}
		out = append(out, PodCPU{Namespace: k.ns, Pod: k.pod, Cores: cores, At: t})
	}
	return out, nil
}
