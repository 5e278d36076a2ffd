package config

import (
	"sort"
	"strings"
)

// NamespaceLabel opts a namespace in: trimtab's webhooks only see objects in
// namespaces labelled NamespaceLabel=NamespaceLabelValue.
const NamespaceLabel = "trimtab.dev/enabled"

// NamespaceLabelValue is the only value of NamespaceLabel that opts a
// namespace in.
const NamespaceLabelValue = "true"

// Prefix starts every label and annotation key trimtab owns. Unknown keys
// under it are errors, so a typo cannot pass silently.
const Prefix = "trimtab.dev/"

// Workload policy annotations, set by users on a Deployment, StatefulSet, Job
// or CronJob (metadata.annotations, not the pod template). docs/policy.md is
// the user-facing reference for each.
const (
	// AnnotationClass is the workload's class: critical, standard or batch.
	AnnotationClass = Prefix + "class"
	// AnnotationCapacity is where pods run: auto, spot or on-demand.
	AnnotationCapacity = Prefix + "capacity"
	// AnnotationOnDemandBase is, with capacity auto, how many pods run on
	// on-demand capacity before the rest go to spot.
	AnnotationOnDemandBase = Prefix + "on-demand-base"
	// AnnotationReplicas bounds the replica count: "MIN..MAX", "MIN.." or "..MAX".
	AnnotationReplicas = Prefix + "replicas"
	// AnnotationMode is enforce (act) or shadow (decide and record only).
	AnnotationMode = Prefix + "mode"
	// AnnotationRequests is auto (trimtab sizes container requests) or off.
	AnnotationRequests = Prefix + "requests"
	// AnnotationMetric is a PromQL expression for the workload's business
	// load, e.g. `sum(rate(orders_total{app="shop"}[1m]))`.
	AnnotationMetric = Prefix + "metric"
	// AnnotationTargetPerPod is how much of AnnotationMetric one pod should
	// carry, a positive number (e.g. "50" orders/s per pod).
	AnnotationTargetPerPod = Prefix + "target-per-pod"
	// AnnotationDownstream is a PromQL expression for a downstream dependency's
	// health, e.g. a database's p95 latency in seconds.
	AnnotationDownstream = Prefix + "downstream"
	// AnnotationDownstreamMax is the limit of AnnotationDownstream above which
	// trimtab stops scaling out; a positive number.
	AnnotationDownstreamMax = Prefix + "downstream-max"
)

// Pod annotations written by trimtab's mutating webhook. They are output, not
// policy: ParsePolicy accepts and ignores them wherever they appear (a
// workload copied from `kubectl get pod -o yaml` may carry them), and the
// validating webhook never warns about them on a pod template.
const (
	// AnnotationDecision says, for humans, what trimtab injected into the pod
	// and why.
	AnnotationDecision = Prefix + "decision"
	// AnnotationDecisionJSON is the machine-readable form of AnnotationDecision.
	AnnotationDecisionJSON = Prefix + "decision-json"
)

// PolicyKeys lists every workload policy annotation, in documentation order.
var PolicyKeys = []string{
	AnnotationClass,
	AnnotationCapacity,
	AnnotationOnDemandBase,
	AnnotationReplicas,
	AnnotationMode,
	AnnotationRequests,
	AnnotationMetric,
	AnnotationTargetPerPod,
	AnnotationDownstream,
	AnnotationDownstreamMax,
	AnnotationRequestsPinned,
	AnnotationRequestsMin,
	AnnotationRequestsMax,
	AnnotationLimits,
	AnnotationResize,
}

// OutputKeys lists the annotations trimtab writes on pods.
var OutputKeys = []string{AnnotationDecision, AnnotationDecisionJSON, AnnotationResources}

// IsPolicyKey reports whether key is one of PolicyKeys.
func IsPolicyKey(key string) bool {
	for _, k := range PolicyKeys {
		if k == key {
			return true
		}
	}
	return false
}

// IsOutputKey reports whether key is one of OutputKeys.
func IsOutputKey(key string) bool {
	return key == AnnotationDecision || key == AnnotationDecisionJSON || key == AnnotationResources
}

// IsTrimtabKey reports whether key is in trimtab's annotation namespace,
// known or not: it starts with Prefix, or its prefix is a likely misspelling
// of it ("trimtab.de/", "Trimtab.dev/"). Subdomains such as
// "status.trimtab.dev/" are not trimtab policy and are not matched.
func IsTrimtabKey(key string) bool {
	if strings.HasPrefix(key, Prefix) {
		return true
	}
	return misspelledPrefix(key)
}

// misspelledPrefix reports whether key's DNS prefix is within two edits of
// "trimtab.dev" (case-insensitively) without being it or a subdomain of it.
func misspelledPrefix(key string) bool {
	i := strings.IndexByte(key, '/')
	if i < 0 {
		return false
	}
	p := strings.ToLower(key[:i])
	want := strings.TrimSuffix(Prefix, "/")
	if strings.HasSuffix(p, "."+want) {
		return false
	}
	return p == want || editDistance(p, want, 3) <= 2
}

// suggestKey returns the known key a mistyped key most likely meant, or ""
// when none is close. "Close" is at most a third of the name's length in
// edits (at least one), compared case-insensitively after the prefix.
func suggestKey(key string) string {
	name := key
	if i := strings.IndexByte(key, '/'); i >= 0 {
		name = key[i+1:]
	}
	name = strings.ToLower(name)
	known := append(append([]string{}, PolicyKeys...), OutputKeys...)
	best, bestD := "", 1<<30
	for _, k := range known {
		kn := strings.TrimPrefix(k, Prefix)
		limit := len(kn) / 3
		if limit < 1 {
			limit = 1
		}
		if d := editDistance(name, kn, limit+1); d <= limit && d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// knownKeysList is PolicyKeys sorted and quoted for error messages.
func knownKeysList() string {
	keys := append([]string{}, PolicyKeys...)
	sort.Strings(keys)
	return `"` + strings.Join(keys, `", "`) + `"`
}

// editDistance is the optimal-string-alignment distance between a and b
// (Levenshtein plus adjacent transpositions, so "moed" is one edit from
// "mode"), or any value ≥ limit once it is known to be at least limit, which
// keeps long fuzzed keys cheap.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
