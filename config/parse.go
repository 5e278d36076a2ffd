package config

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// annotationsPath is where policy lives on a workload; errors name
// metadata.annotations[<key>].
var annotationsPath = field.NewPath("metadata", "annotations")

// KeyPath is the field path of annotation key, as validation errors name it.
func KeyPath(key string) *field.Path { return annotationsPath.Key(key) }

// maxExpressionLen bounds a PromQL annotation; longer is almost surely a
// paste accident and would bloat every Decision that quotes it.
const maxExpressionLen = 2048

// ParsePolicy parses a workload's annotations into a Policy, fills defaults
// for what is unset, and validates the result. It reports every problem at
// once: each error names the annotation key, the bad value and the accepted
// form. Keys outside trimtab's prefix are ignored; unknown keys under it are
// errors, with the closest known key suggested for a likely typo. The output
// annotations (AnnotationDecision, AnnotationDecisionJSON) are accepted and
// ignored. When errs is non-empty the returned Policy holds defaults in place
// of the bad values and must not be acted on.
func ParsePolicy(annotations map[string]string) (Policy, field.ErrorList) {
	p := DefaultPolicy()
	var errs field.ErrorList
	bad := map[string]bool{} // keys already reported, so Validate doesn't repeat them
	fail := func(err *field.Error) {
		errs = append(errs, err)
		bad[err.Field] = true
	}

	if v, ok := annotations[AnnotationClass]; ok {
		if c, ok := oneOf(v, Classes); ok {
			p.Class = c
			p.OnDemandBase = DefaultOnDemandBase(c)
		} else {
			fail(NotSupported(KeyPath(AnnotationClass), v, Classes))
		}
	}
	if v, ok := annotations[AnnotationCapacity]; ok {
		if c, ok := oneOf(v, Capacities); ok {
			p.Capacity = c
		} else {
			fail(NotSupported(KeyPath(AnnotationCapacity), v, Capacities))
		}
	}
	if p.Capacity != CapacityAuto {
		p.OnDemandBase = 0
	}
	if v, ok := annotations[AnnotationOnDemandBase]; ok {
		path := KeyPath(AnnotationOnDemandBase)
		n, err := strconv.Atoi(v)
		if !isDigits(v) {
			err = errNotDigits
		}
		switch {
		case p.Capacity != CapacityAuto:
			fail(Invalid(path, v, fmt.Sprintf(
				"applies only with %s: %q (this workload has %q); remove it, or set capacity to %q",
				AnnotationCapacity, CapacityAuto, p.Capacity, CapacityAuto)))
		case err != nil:
			fail(Invalid(path, v, `must be a whole number ≥ 0, e.g. "2"`))
		default:
			p.OnDemandBase = n
		}
	}
	if v, ok := annotations[AnnotationReplicas]; ok {
		lo, hi, detail := parseReplicas(v)
		if detail != "" {
			fail(Invalid(KeyPath(AnnotationReplicas), v, detail))
		} else {
			p.MinReplicas, p.MaxReplicas = lo, hi
		}
	}
	if v, ok := annotations[AnnotationMode]; ok {
		if m, ok := oneOf(v, Modes); ok {
			p.Mode = m
		} else {
			fail(NotSupported(KeyPath(AnnotationMode), v, Modes))
		}
	}
	if v, ok := annotations[AnnotationRequests]; ok {
		if r, ok := oneOf(v, RequestsValues); ok {
			p.Requests = r
		} else {
			fail(NotSupported(KeyPath(AnnotationRequests), v, RequestsValues))
		}
	}
	parseSignal(annotations, AnnotationMetric, AnnotationTargetPerPod, `"50"`, &p.Metric, &p.TargetPerPod, fail)
	parseSignal(annotations, AnnotationDownstream, AnnotationDownstreamMax, `"0.25"`, &p.Downstream, &p.DownstreamMax, fail)
	parseRequestsKeys(annotations, &p, fail)

	for _, key := range unknownKeys(annotations) {
		fail(unknownKeyError(key))
	}
	for _, e := range p.Validate() {
		if !bad[e.Field] {
			errs = append(errs, e)
		}
	}
	return p, errs
}

// oneOf returns v as a T when it is exactly one of values.
func oneOf[T ~string](v string, values []T) (T, bool) {
	for _, t := range values {
		if string(t) == v {
			return t, true
		}
	}
	return "", false
}

// replicasForm is the accepted form of AnnotationReplicas, for messages.
const replicasForm = `must be "MIN..MAX", "MIN.." or "..MAX" with whole numbers ≥ 1, e.g. "2..10"`

// parseReplicas parses "MIN..MAX", "MIN.." or "..MAX". A non-empty detail
// says what is wrong; min > max is left to Validate.
func parseReplicas(v string) (lo, hi int32, detail string) {
	a, b, ok := strings.Cut(v, "..")
	if !ok || (a == "" && b == "") {
		return 0, 0, replicasForm
	}
	parse := func(s, name string) (int32, string) {
		if s == "" {
			return 0, ""
		}
		if strings.HasPrefix(s, "-") && isDigits(s[1:]) {
			return 0, name + ` must be ≥ 1 (trimtab does not scale to zero); leave it out for no bound, e.g. "..10"`
		}
		if !isDigits(s) {
			return 0, replicasForm
		}
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return 0, replicasForm
		}
		if n < 1 {
			return 0, name + ` must be ≥ 1 (trimtab does not scale to zero); leave it out for no bound, e.g. "..10"`
		}
		return int32(n), ""
	}
	if lo, detail = parse(a, "min"); detail != "" {
		return 0, 0, detail
	}
	if hi, detail = parse(b, "max"); detail != "" {
		return 0, 0, detail
	}
	return lo, hi, ""
}

// parseSignal parses a PromQL expression key and its paired number key
// (metric + target-per-pod, downstream + downstream-max). Pairing and range
// are checked by Validate.
func parseSignal(a map[string]string, exprKey, numKey, example string, expr *string, num *float64, fail func(*field.Error)) {
	if v, ok := a[exprKey]; ok {
		if detail := checkExpression(v); detail != "" {
			fail(Invalid(KeyPath(exprKey), v, detail))
		} else {
			*expr = v
		}
	}
	if v, ok := a[numKey]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !isDecimal(v) || !(f > 0) || math.IsInf(f, 0) {
			fail(Invalid(KeyPath(numKey), v, "must be a positive number, e.g. "+example))
		} else {
			*num = f
		}
	}
}

// checkExpression does the cheap, certain part of PromQL validation: not
// empty, not huge, quotes closed and brackets balanced. The decider's query
// against Prometheus reports the rest.
func checkExpression(v string) string {
	const form = `must be a PromQL expression, e.g. "sum(rate(http_requests_total{app=\"shop\"}[1m]))"`
	if strings.TrimSpace(v) == "" {
		return form
	}
	if len(v) > maxExpressionLen {
		return fmt.Sprintf("%s; this one is %d bytes, at most %d are accepted", form, len(v), maxExpressionLen)
	}
	var stack []byte
	var quote byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		if quote != 0 {
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'', '`':
			quote = c
		case '(', '{', '[':
			stack = append(stack, c)
		case ')', '}', ']':
			open := map[byte]byte{')': '(', '}': '{', ']': '['}[c]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return fmt.Sprintf("%s; unexpected %q at byte %d", form, c, i)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if quote != 0 {
		return fmt.Sprintf("%s; unclosed %c quote", form, quote)
	}
	if len(stack) > 0 {
		return fmt.Sprintf("%s; unclosed %q", form, stack[len(stack)-1])
	}
	return ""
}

// unknownKeys returns the trimtab-looking keys of a that are neither policy
// nor output keys, sorted.
func unknownKeys(a map[string]string) []string {
	var keys []string
	for k := range a {
		if IsTrimtabKey(k) && !IsPolicyKey(k) && !IsOutputKey(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// unknownKeyError explains an unknown trimtab key and suggests the likely
// intended one.
func unknownKeyError(key string) *field.Error {
	path := KeyPath(key)
	if key == NamespaceLabel {
		return Invalid(path, key, fmt.Sprintf(
			"is a namespace label, not a workload annotation; opt the namespace in with `kubectl label namespace <namespace> %s=%s`",
			NamespaceLabel, NamespaceLabelValue))
	}
	if s := suggestKey(key); s != "" {
		return Invalid(path, key, fmt.Sprintf("unknown trimtab annotation; did you mean %q?", s))
	}
	return Invalid(path, key, "unknown trimtab annotation; known keys: "+knownKeysList())
}
