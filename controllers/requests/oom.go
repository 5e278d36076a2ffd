package requests

import (
	"context"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/decider/requests/stamp"
)

// oomKill is one OOM kill a container status reports.
type oomKill struct {
	container string
	at        time.Time
	// limit is the memory the container was killed at: its limit as the
	// kubelet applied it (status), else as the spec asks, else its request.
	limit float64
}

// oomKills lists the OOM kills the pods' container statuses report, oldest
// first: the last termination (a restarted container) and the current one
// (a container not restarted yet), reason OOMKilled.
func oomKills(pods []*corev1.Pod) []oomKill {
	var out []oomKill
	for _, p := range pods {
		spec := map[string]corev1.ResourceRequirements{}
		for _, ctr := range p.Spec.Containers {
			spec[ctr.Name] = ctr.Resources
		}
		for _, s := range p.Status.ContainerStatuses {
			for _, term := range []*corev1.ContainerStateTerminated{s.LastTerminationState.Terminated, s.State.Terminated} {
				if term == nil || term.Reason != "OOMKilled" || term.FinishedAt.IsZero() {
					continue
				}
				out = append(out, oomKill{container: s.Name, at: term.FinishedAt.Time, limit: memoryAt(s, spec[s.Name])})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// memoryAt is the memory a container runs against: its applied limit,
// else its spec's limit, else its request (0: none).
func memoryAt(s corev1.ContainerStatus, spec corev1.ResourceRequirements) float64 {
	if s.Resources != nil {
		if q, ok := s.Resources.Limits[corev1.ResourceMemory]; ok {
			return stamp.Value(q)
		}
	}
	if q, ok := spec.Limits[corev1.ResourceMemory]; ok {
		return stamp.Value(q)
	}
	if q, ok := spec.Requests[corev1.ResourceMemory]; ok {
		return stamp.Value(q)
	}
	return 0
}

// countOOMs records in each container's model the OOM kills newer than the
// newest it counted, so each kill is counted once however many syncs (and
// restarts: the mark is checkpointed) see the status.
func (c *Controller) countOOMs(ctx context.Context, w *workload, t *tracked, st *SyncStats) {
	for _, m := range t.containers {
		m.oomNow = false
	}
	for _, k := range oomKills(w.pods) {
		m := t.containers[k.container]
		if m == nil || !k.at.After(m.lastOOM) {
			continue
		}
		m.lastOOM = k.at
		if k.limit <= 0 {
			logFor(ctx, w).Info("OOM kill of a container without a memory request or limit; nothing to bump from", "container", k.container, "at", k.at)
			continue
		}
		if err := m.c.RecordOOM(k.at, k.limit); err != nil {
			logFor(ctx, w).Error(err, "recording an OOM kill", "container", k.container)
			continue
		}
		m.oomNow = true
		st.OOMs++
		oomKillsTotal.Inc()
		logFor(ctx, w).Info("OOM kill counted", "container", k.container, "at", k.at, "memory", k.limit)
	}
}
