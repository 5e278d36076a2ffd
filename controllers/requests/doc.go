// Package requests is the live loop of trimtab's learned requests: a
// leader-elected controller that, every Period (a minute, VPA's recommender
// loop), reads the CPU and memory working set of every container of the
// opted-in Deployments and StatefulSets with trimtab.dev/requests: auto
// from Prometheus, feeds them to decider/requests' model per container,
// counts OOM kills from the pods' container statuses, and records each
// container's recommendation (target, lower and upper bound, the reason)
// in its part of the workload's Decision (status.requests), which the
// mutating webhook stamps on new pods. A running container whose requests
// leave the recommendation's bounds is resized in place through the
// pods/resize subresource (resize.go), within rate limits and only when
// its node has room; the Resizing condition and lastResize say how it
// went.
//
// The rules a user relies on (docs/requests.md, "In the cluster"):
//
//   - Usage is read in batches, one range request for the containers of
//     many namespaces at each Step (5 minutes: the resolution the model
//     was measured at), and a workload first seen reads the past History
//     (8 days: the weekly envelope needs a week) the same way, or restores
//     its models from the DecisionCheckpoint.
//   - Missing data never lowers anything: a Prometheus outage, a gap or
//     unusable points hold every recommendation (SignalsFresh=False in
//     status.requests.conditions, one SignalsMissing Event per outage),
//     and nothing learned from less than MinHistory goes below the pod
//     template's requests.
//   - Bad input is skipped, counted and logged with its reason: NaN,
//     negative or absurd values (above the largest node's capacity),
//     series without a container label, duplicates, unknown resources.
//     No recommendation exceeds the largest node's allocatable.
//   - Each OOM kill is counted once, across syncs and restarts.
//
// The controller writes only status.requests of a Decision and
// spec.requests of its DecisionCheckpoint (its own field manager), so it
// runs beside the replica controller (controllers/decision) without
// either overwriting the other.
package requests
