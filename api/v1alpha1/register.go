package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is trimtab.dev/v1alpha1.
var GroupVersion = schema.GroupVersion{Group: "trimtab.dev", Version: "v1alpha1"}

// SchemeBuilder registers this package's types; AddToScheme adds them to a
// scheme.
var (
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	AddToScheme   = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &Decision{}, &DecisionList{}, &DecisionCheckpoint{}, &DecisionCheckpointList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
