package config

import (
	"fmt"
	"math"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validate checks a Policy built in code the way ParsePolicy checks
// annotations, and reports every problem against the annotation key that
// would carry it, with the value in annotation form.
func (p Policy) Validate() field.ErrorList {
	var errs field.ErrorList
	if _, ok := oneOf(string(p.Class), Classes); !ok {
		errs = append(errs, NotSupported(KeyPath(AnnotationClass), string(p.Class), Classes))
	}
	if _, ok := oneOf(string(p.Capacity), Capacities); !ok {
		errs = append(errs, NotSupported(KeyPath(AnnotationCapacity), string(p.Capacity), Capacities))
	}
	if _, ok := oneOf(string(p.Mode), Modes); !ok {
		errs = append(errs, NotSupported(KeyPath(AnnotationMode), string(p.Mode), Modes))
	}
	if _, ok := oneOf(string(p.Requests), RequestsValues); !ok {
		errs = append(errs, NotSupported(KeyPath(AnnotationRequests), string(p.Requests), RequestsValues))
	}

	base := KeyPath(AnnotationOnDemandBase)
	switch {
	case p.OnDemandBase < 0 || p.OnDemandBase > math.MaxInt32:
		errs = append(errs, field.Invalid(base, strconv.Itoa(p.OnDemandBase),
			fmt.Sprintf(`must be a whole number from 0 to %d, e.g. "2"`, math.MaxInt32)))
	case p.OnDemandBase != 0 && p.Capacity != CapacityAuto:
		errs = append(errs, field.Invalid(base, strconv.Itoa(p.OnDemandBase), fmt.Sprintf(
			"applies only with %s: %q; remove it, or set capacity to %q", AnnotationCapacity, CapacityAuto, CapacityAuto)))
	}

	rp := KeyPath(AnnotationReplicas)
	switch {
	case p.MinReplicas < 0 || p.MaxReplicas < 0:
		errs = append(errs, field.Invalid(rp, p.ReplicasString(), replicasForm))
	case p.MinReplicas != 0 && p.MaxReplicas != 0 && p.MinReplicas > p.MaxReplicas:
		errs = append(errs, field.Invalid(rp, p.ReplicasString(),
			fmt.Sprintf("min must be ≤ max, e.g. %q", fmt.Sprintf("%d..%d", p.MaxReplicas, p.MinReplicas))))
	}

	errs = append(errs, validateSignal(p.Metric, p.TargetPerPod, AnnotationMetric, AnnotationTargetPerPod,
		"metric units one pod should carry", `"50"`)...)
	errs = append(errs, validateSignal(p.Downstream, p.DownstreamMax, AnnotationDownstream, AnnotationDownstreamMax,
		"downstream value above which trimtab stops scaling out", `"0.25"`)...)
	errs = append(errs, validateRequestsKeys(p)...)
	return errs
}

// validateSignal checks a PromQL expression and its paired number: both or
// neither, the expression well formed, the number positive and finite.
func validateSignal(expr string, num float64, exprKey, numKey, what, example string) field.ErrorList {
	var errs field.ErrorList
	if expr != "" {
		if detail := checkExpression(expr); detail != "" {
			errs = append(errs, Invalid(KeyPath(exprKey), expr, detail))
		}
	}
	switch {
	case expr != "" && num == 0:
		errs = append(errs, field.Required(KeyPath(numKey), fmt.Sprintf(
			"required with %s: the %s, a positive number, e.g. %s", exprKey, what, example)))
	case expr == "" && num != 0:
		errs = append(errs, field.Required(KeyPath(exprKey), fmt.Sprintf(
			"required with %s: a PromQL expression, or remove %s", numKey, numKey)))
	}
	if num != 0 && (!(num > 0) || math.IsInf(num, 0)) {
		errs = append(errs, field.Invalid(KeyPath(numKey), formatFloat(num), "must be a positive number, e.g. "+example))
	}
	return errs
}
