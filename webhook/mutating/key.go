package mutating

import "strings"

// WorkloadKey names a workload in the cluster. It keys the Ledger and is
// the value of the manager's pod index, so a pod is counted for exactly the
// workload that placed it.
type WorkloadKey struct {
	Namespace, Kind, Name string
}

// String is "namespace/Kind/name".
func (k WorkloadKey) String() string { return k.Namespace + "/" + k.Kind + "/" + k.Name }

// keyOf is the key of the workload a pod's decision names ("Kind/name",
// PodDecision.Workload) in namespace; ok is false when it names none.
func keyOf(namespace, workload string) (WorkloadKey, bool) {
	kind, name, ok := strings.Cut(workload, "/")
	if !ok || kind == "" || name == "" {
		return WorkloadKey{}, false
	}
	return WorkloadKey{Namespace: namespace, Kind: kind, Name: name}, true
}
