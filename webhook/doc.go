// Package webhook serves trimtab's admission webhooks. The mutating webhook
// stamps the decider's requests, spot/on-demand node affinity and tolerations
// onto pods as they are created in opted-in namespaces, and annotates each pod
// with what was injected and why. The validating webhook rejects workloads
// whose trimtab policy annotations are malformed. Neither ever blocks a pod:
// an unknown workload or a missing decision leaves the pod unchanged.
package webhook
