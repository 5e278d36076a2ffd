package fit

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// Snapshot is the cluster state a simulation starts from, as a planner reads
// it from informers: plain API objects, nothing live.
//
// Pods bound to a node (spec.nodeName set, phase neither Succeeded nor
// Failed) occupy that node, exactly as in kube-scheduler's cache; other pods
// are ignored. The workload objects are optional: kube-scheduler derives the
// default topology spreading of a pod that has no spread constraints of its
// own from the Services, ReplicaSets, StatefulSets and ReplicationControllers
// that select it, and the namespaces' labels answer the namespaceSelector of
// inter-pod affinity terms. Leave them out and those rules see nothing.
type Snapshot struct {
	Nodes []*corev1.Node
	Pods  []*corev1.Pod

	// PDBs are carried for the planner, which decides what may be evicted;
	// placing a pod never reads them (kube-scheduler doesn't either).
	PDBs []*policyv1.PodDisruptionBudget

	Namespaces             []*corev1.Namespace
	Services               []*corev1.Service
	ReplicaSets            []*appsv1.ReplicaSet
	StatefulSets           []*appsv1.StatefulSet
	ReplicationControllers []*corev1.ReplicationController
}
