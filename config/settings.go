package config

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Settings are the operator's own settings: how the cluster marks capacity
// types, and which namespaces trimtab never touches. They are set once per
// installation (flags or Helm values), not per workload.
type Settings struct {
	// CapacityTypeLabel is the node label whose value says a node's capacity
	// type. Default "karpenter.sh/capacity-type", as Karpenter sets it.
	CapacityTypeLabel string
	// SpotValue and OnDemandValue are CapacityTypeLabel's values for spot and
	// on-demand nodes. Defaults "spot" and "on-demand", Karpenter's values.
	SpotValue, OnDemandValue string
	// SpotTaint is the taint on spot nodes that pods allowed on spot get a
	// toleration for. Default trimtab.dev/spot=true:NoSchedule, so nothing
	// lands on spot unless trimtab (or its owner) says it may. An empty Key
	// means spot nodes are not tainted and no toleration is added.
	SpotTaint corev1.Taint
	// ExcludedNamespaces are never validated or mutated, whatever their
	// labels. Default: kube-system, kube-public, kube-node-lease and
	// trimtab's own namespace, DefaultNamespace.
	ExcludedNamespaces []string
}

// DefaultNamespace is the namespace trimtab is installed in by default.
const DefaultNamespace = "trimtab-system"

// DefaultSettings returns the settings of a default installation.
func DefaultSettings() Settings {
	return Settings{
		CapacityTypeLabel: "karpenter.sh/capacity-type",
		SpotValue:         "spot",
		OnDemandValue:     "on-demand",
		SpotTaint: corev1.Taint{
			Key:    Prefix + "spot",
			Value:  "true",
			Effect: corev1.TaintEffectNoSchedule,
		},
		ExcludedNamespaces: []string{"kube-system", "kube-public", "kube-node-lease", DefaultNamespace},
	}
}

// Excluded reports whether namespace is one trimtab never touches.
func (s Settings) Excluded(namespace string) bool {
	return slices.Contains(s.ExcludedNamespaces, namespace)
}

// Validate reports every invalid setting at once, each naming the setting,
// the bad value and what is accepted.
func (s Settings) Validate() error {
	var errs field.ErrorList
	root := field.NewPath("settings")
	label := root.Child("capacityTypeLabel")
	for _, msg := range validation.IsQualifiedName(s.CapacityTypeLabel) {
		errs = append(errs, field.Invalid(label, s.CapacityTypeLabel, "must be a label key, e.g. \"karpenter.sh/capacity-type\": "+msg))
	}
	for _, v := range []struct {
		name, value string
	}{{"spotValue", s.SpotValue}, {"onDemandValue", s.OnDemandValue}} {
		if v.value == "" {
			errs = append(errs, field.Required(root.Child(v.name), "a label value, e.g. \"spot\""))
		}
		for _, msg := range validation.IsValidLabelValue(v.value) {
			errs = append(errs, field.Invalid(root.Child(v.name), v.value, "must be a label value: "+msg))
		}
	}
	if s.SpotValue != "" && s.SpotValue == s.OnDemandValue {
		errs = append(errs, field.Invalid(root.Child("onDemandValue"), s.OnDemandValue,
			"must differ from spotValue, or no node could be told apart"))
	}
	taint := root.Child("spotTaint")
	if s.SpotTaint.Key != "" {
		for _, msg := range validation.IsQualifiedName(s.SpotTaint.Key) {
			errs = append(errs, field.Invalid(taint.Child("key"), s.SpotTaint.Key, "must be a taint key, e.g. \"trimtab.dev/spot\": "+msg))
		}
		for _, msg := range validation.IsValidLabelValue(s.SpotTaint.Value) {
			errs = append(errs, field.Invalid(taint.Child("value"), s.SpotTaint.Value, "must be a taint value: "+msg))
		}
		effects := []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}
		if !slices.Contains(effects, s.SpotTaint.Effect) {
			errs = append(errs, field.NotSupported(taint.Child("effect"), string(s.SpotTaint.Effect), effects))
		}
	} else if s.SpotTaint.Value != "" || s.SpotTaint.Effect != "" {
		errs = append(errs, field.Required(taint.Child("key"), "a taint key when value or effect is set; leave all three empty for untainted spot nodes"))
	}
	for i, ns := range s.ExcludedNamespaces {
		for _, msg := range validation.IsDNS1123Label(ns) {
			errs = append(errs, field.Invalid(root.Child("excludedNamespaces").Index(i), ns, "must be a namespace name: "+msg))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid trimtab settings: %w", errs.ToAggregate())
	}
	return nil
}
