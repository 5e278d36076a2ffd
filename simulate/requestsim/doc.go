// Package requestsim replays a container's recorded usage through trimtab's
// request model and its baselines (the VPA recommender's defaults, the
// static provisioned value and a clairvoyant per-day-peak oracle) and scores
// each on slack, time over request, OOM minutes, request changes and, with
// an injected leak, how long before the OOM memory was raised. It backs
// `trimtab simulate requests`; it is pure (the trace is read by Parse).
package requestsim
