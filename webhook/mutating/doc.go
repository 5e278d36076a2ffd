// Package mutating is trimtab's mutating admission webhook for pods.
//
// On Pod CREATE in an opted-in namespace it finds the pod's workload
// (ReplicaSet → Deployment, StatefulSet, Job → CronJob), reads the workload's
// policy annotations and runs a list of small steps, one concern each:
//
//   - capacity: choose spot or on-demand for this pod (capacity spot,
//     on-demand, or auto with an on-demand base count) and stamp node
//     affinity on the capacity-type label. The base is counted per
//     revision (the pod's controller: a Deployment's ReplicaSet, a Job),
//     so a rollout's new pods fill a base of their own, by a Ledger fed by
//     the pod informer with the pods trimtab placed; a StatefulSet's base
//     is its lowest ordinals;
//   - toleration: let pods placed on spot tolerate the spot taint;
//   - explanation: annotate the pod with what was injected and why, in words
//     (trimtab.dev/decision) and as JSON (trimtab.dev/decision-json), as
//     far as the apiserver's 256 KiB annotation total leaves room: the JSON
//     is dropped first, with a note.
//
// A step never overrides a field the user set: it records that it kept it.
// Nothing here ever denies a pod: an unknown workload, an invalid policy or an
// internal error admits the pod unchanged (and the webhook configuration uses
// failurePolicy Ignore). The pod's annotations say what was decided
// (`kubectl describe pod`); once the pods exist, an Event per workload and
// interval sums up their placements (`kubectl describe deployment`).
package mutating
