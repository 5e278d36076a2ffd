// Package hpa is the Kubernetes HorizontalPodAutoscaler's replica algorithm as
// pure functions: the replica calculator (usage ratio, tolerance, unready,
// missing and initialising pods) and the behavior normalizer (scale-up and
// scale-down policies, stabilization windows, min/max). Given the same inputs
// it returns the same replicas as the upstream controller; its tests port the
// cases of upstream's replica_calculator_test.go and horizontal_test.go.
//
// It follows kubernetes/kubernetes pkg/controller/podautoscaler
// (replica_calculator.go and horizontal.go, v1.37). Where upstream reads the
// clock, the pod lister or the metrics API, this package takes the time, the
// pods and their metrics as arguments, and it keeps the controller's per-HPA
// memory (recommendations and scale events) in a State value the caller owns.
// State.AppendCheckpoint and RestoreState carry that memory across a
// controller restart, which upstream loses (its maps start empty).
package hpa
