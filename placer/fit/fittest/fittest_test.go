package fittest

import (
	"reflect"
	"testing"
)

// TestSeedsReplay: a seed names a scenario; a failure report's seed must
// rebuild the same one.
func TestSeedsReplay(t *testing.T) {
	o := Options{Nodes: 5, Pods: 20, Namespace: "ns"}
	if a, b := Generate(42, o), Generate(42, o); !reflect.DeepEqual(a, b) {
		t.Error("the same seed made two different scenarios")
	}
	if a, b := Generate(1, o), Generate(2, o); reflect.DeepEqual(a.Pods, b.Pods) {
		t.Error("two seeds made the same pods")
	}
	if a, b := GenerateLarge(1, 20, 100), GenerateLarge(1, 20, 100); !reflect.DeepEqual(a, b) {
		t.Error("the same seed made two different large clusters")
	}
}
