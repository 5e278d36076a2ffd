// Package stamp is what a container's resources become when a learned
// request is stamped on it: the webhook stamps new pods with it, and the
// requests controller resizes running pods with it, so both obey the same
// rules.
//
// For cpu and memory (other resources are never touched):
//
//   - the request is the target, within the policy's bounds
//     (trimtab.dev/requests-min and -max);
//   - a limit keeps its ratio to the request, as VPA's controlledValues
//     RequestsAndLimits does, or stays as written (trimtab.dev/limits:
//     keep), in which case the request never goes above it;
//   - every Container LimitRange of the namespace holds: the request and
//     the limit within min and max, and the limit within
//     maxLimitRequestRatio of the request (the request rises to meet it);
//   - a Pod LimitRange is checked on the pod's sums: a resource whose
//     stamped sums would break one is left as written in every container,
//     since the apiserver's LimitRanger would refuse the pod.
//
// The package is pure: values in, values out, with a note for everything
// that moved a value away from the target.
package stamp
