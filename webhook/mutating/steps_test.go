package mutating

import (
	"reflect"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

func TestCapacityAffinityRequiredJoinsEveryTerm(t *testing.T) {
	s := config.DefaultSettings()
	zone := corev1.NodeSelectorRequirement{Key: "topology.kubernetes.io/zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}
	arch := corev1.NodeSelectorRequirement{Key: "kubernetes.io/arch", Operator: corev1.NodeSelectorOpIn, Values: []string{"arm64"}}
	pod := &corev1.Pod{Spec: corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
			{MatchExpressions: []corev1.NodeSelectorRequirement{zone}},
			{MatchExpressions: []corev1.NodeSelectorRequirement{arch}},
		}},
	}}}}
	d := &PodDecision{Placement: capacity.OnDemand, Required: true}
	capacityAffinity(pod, d, s)
	want := corev1.NodeSelectorRequirement{Key: s.CapacityTypeLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{"on-demand"}}
	terms := pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if !reflect.DeepEqual(terms[0].MatchExpressions, []corev1.NodeSelectorRequirement{zone, want}) ||
		!reflect.DeepEqual(terms[1].MatchExpressions, []corev1.NodeSelectorRequirement{arch, want}) {
		t.Errorf("terms = %+v; the capacity requirement must join every ORed term", terms)
	}
	if len(d.Injected) != 1 || !strings.Contains(d.Injected[0], "required node affinity karpenter.sh/capacity-type=on-demand") {
		t.Errorf("injected = %q", d.Injected)
	}
}

func TestCapacityAffinityPreferredOnEmptyPod(t *testing.T) {
	s := config.DefaultSettings()
	pod := &corev1.Pod{}
	d := &PodDecision{Placement: capacity.Spot}
	capacityAffinity(pod, d, s)
	pref := pod.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	if len(pref) != 1 || pref[0].Weight != 100 || pref[0].Preference.MatchExpressions[0].Values[0] != "spot" {
		t.Errorf("preferred = %+v, want one weight-100 term for spot", pref)
	}
	if pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		t.Error("a preferred placement must not add a required term")
	}
}

func TestSpotToleration(t *testing.T) {
	s := config.DefaultSettings()
	for _, tc := range []struct {
		name      string
		placement capacity.Type
		existing  []corev1.Toleration
		settings  func(*config.Settings)
		added     bool
		kept      bool
	}{
		{name: "spot gets it", placement: capacity.Spot, added: true},
		{name: "on-demand does not", placement: capacity.OnDemand},
		{name: "user's exists-toleration is kept", placement: capacity.Spot, existing: []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, kept: true},
		{name: "untainted spot nodes", placement: capacity.Spot, settings: func(s *config.Settings) { s.SpotTaint = corev1.Taint{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := s
			if tc.settings != nil {
				tc.settings(&ss)
			}
			pod := &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tc.existing}}
			d := &PodDecision{Placement: tc.placement}
			spotToleration(pod, d, ss)
			added := len(pod.Spec.Tolerations) > len(tc.existing)
			if added != tc.added || (len(d.Kept) == 1) != tc.kept {
				t.Errorf("added %v (want %v), kept %q (want kept %v)", added, tc.added, d.Kept, tc.kept)
			}
			if added && !pod.Spec.Tolerations[len(pod.Spec.Tolerations)-1].ToleratesTaint(logr.Discard(), &ss.SpotTaint, false) {
				t.Errorf("added toleration %+v does not tolerate %+v", pod.Spec.Tolerations, ss.SpotTaint)
			}
		})
	}
}

func TestUserPinned(t *testing.T) {
	label := config.DefaultSettings().CapacityTypeLabel
	req := []corev1.NodeSelectorRequirement{{Key: label, Operator: corev1.NodeSelectorOpIn, Values: []string{"spot"}}}
	for _, tc := range []struct {
		name string
		spec corev1.PodSpec
		want string
	}{
		{"nothing", corev1.PodSpec{}, ""},
		{"other nodeSelector", corev1.PodSpec{NodeSelector: map[string]string{"disk": "ssd"}}, ""},
		{"nodeSelector", corev1.PodSpec{NodeSelector: map[string]string{label: "spot"}}, "nodeSelector " + label + "=spot"},
		{"required", corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: req}}}}}}, "required node affinity"},
		{"preferred", corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 1, Preference: corev1.NodeSelectorTerm{MatchExpressions: req}}}}}}, "preferred node affinity"},
	} {
		got := userPinned(&corev1.Pod{Spec: tc.spec}, label)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: userPinned = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// The pods of the on-demand base carry a deletion cost, so a scale-in takes
// spot pods first; a cost the user set is kept, and other pods get none.
func TestBaseDeletionCost(t *testing.T) {
	s := config.DefaultSettings()
	base := &corev1.Pod{}
	d := &PodDecision{Placement: capacity.OnDemand, Required: true, Base: true}
	baseDeletionCost(base, d, s)
	if base.Annotations[AnnotationPodDeletionCost] != baseCost || len(d.Injected) != 1 {
		t.Errorf("base pod: annotations %v, injected %v", base.Annotations, d.Injected)
	}
	own := &corev1.Pod{}
	own.Annotations = map[string]string{AnnotationPodDeletionCost: "-5"}
	d = &PodDecision{Placement: capacity.OnDemand, Required: true, Base: true}
	baseDeletionCost(own, d, s)
	if own.Annotations[AnnotationPodDeletionCost] != "-5" || len(d.Kept) != 1 {
		t.Errorf("user's cost: annotations %v, kept %v", own.Annotations, d.Kept)
	}
	spot := &corev1.Pod{}
	baseDeletionCost(spot, &PodDecision{Placement: capacity.Spot}, s)
	if _, ok := spot.Annotations[AnnotationPodDeletionCost]; ok {
		t.Error("a spot pod got a deletion cost")
	}
}
