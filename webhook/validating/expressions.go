package validating

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/signals/promql"
)

// expressionKeys are the annotations that hold PromQL.
var expressionKeys = []string{config.AnnotationMetric, config.AnnotationDownstream}

// expressionErrors checks the PromQL annotations with Prometheus' own
// parser, beyond config's structural check, so a workload is rejected for an
// expression Prometheus would refuse rather than reported later by the
// controller. A key config already rejected is not checked again. The parser
// lives outside config because its imports are not pure (see package
// promql).
func expressionErrors(annotations map[string]string, reported field.ErrorList) field.ErrorList {
	var errs field.ErrorList
	for _, key := range expressionKeys {
		v, ok := annotations[key]
		if !ok || hasError(reported, key) {
			continue
		}
		if _, err := promql.Check(v); err != nil {
			errs = append(errs, config.Invalid(config.KeyPath(key), v,
				"must be a PromQL expression Prometheus can parse and that gives one number: "+err.Error()))
		}
	}
	return errs
}

func hasError(errs field.ErrorList, key string) bool {
	path := config.KeyPath(key).String()
	for _, e := range errs {
		if e.Field == path {
			return true
		}
	}
	return false
}
