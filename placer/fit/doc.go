// Package fit answers, for a snapshot of a cluster, where kube-scheduler
// would put a pod, and if nowhere, what it would say.
//
// It runs the checks of kube-scheduler 1.37's default profile in the
// scheduler's order and with its words: NodeUnschedulable, TaintToleration,
// NodeAffinity (nodeSelector included), NodePorts, NodeResourcesFit,
// PodTopologySpread and InterPodAffinity, then scores the feasible nodes
// with TaintToleration, NodeAffinity, NodeResourcesFit (LeastAllocated),
// PodTopologySpread (system default spreading included),
// InterPodAffinity and NodeResourcesBalancedAllocation at their default
// weights. The rules themselves come from kube-scheduler's own libraries
// where they exist outside k8s.io/kubernetes: k8s.io/component-helpers
// (pod requests, taints and tolerations, node selectors) and
// k8s.io/kube-scheduler/framework (affinity terms, host ports); the rest
// follows the plugin sources line by line, with links, and is checked
// against the real plugins (hack/intree) and the real scheduler
// (test/e2e). docs/placer.md says why, and what that measured.
//
// Not simulated: volumes (VolumeBinding, VolumeZone, VolumeRestrictions,
// NodeVolumeLimits), dynamic resource allocation, node-declared features,
// ImageLocality scoring, preemption, nominated pods, and the node sampling
// kube-scheduler does above 100 nodes (fit scores every feasible node).
//
// Usage: New(snapshot) indexes the cluster; Place(pod) returns a Placement
// (node, feasibility, the scheduler's message) and binds the pod so the
// next one sees it; Move(pods) evicts and replaces pods one after another;
// Explain(pod) gives every node's verdict without binding. The package is
// pure: no client, no clock, no goroutines.
package fit
