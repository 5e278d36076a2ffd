package config

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ParseTaint parses a taint written as key=value:effect or key:effect, the
// form `kubectl taint` takes. The empty string is no taint (the zero Taint).
func ParseTaint(s string) (corev1.Taint, error) {
	if s == "" {
		return corev1.Taint{}, nil
	}
	keyValue, effect, ok := strings.Cut(s, ":")
	if !ok || keyValue == "" {
		return corev1.Taint{}, fmt.Errorf("taint %q: want key=value:effect, e.g. %q", s, "trimtab.dev/spot=true:NoSchedule")
	}
	key, value, _ := strings.Cut(keyValue, "=")
	switch e := corev1.TaintEffect(effect); e {
	case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		return corev1.Taint{Key: key, Value: value, Effect: e}, nil
	default:
		return corev1.Taint{}, fmt.Errorf("taint %q: effect %q is not one of NoSchedule, PreferNoSchedule, NoExecute", s, effect)
	}
}

// FormatTaint is the inverse of ParseTaint.
func FormatTaint(t corev1.Taint) string {
	if t.Key == "" {
		return ""
	}
	return t.ToString()
}
