package stamp

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trimtab-dev/trimtab/decider/requests"
)

const MiB = requests.MiB

func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func lr(name string, typ corev1.LimitType, min, max, ratio corev1.ResourceList) corev1.LimitRange {
	return corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
		{Type: typ, Min: min, Max: max, MaxLimitRequestRatio: ratio}}}}
}

func TestContainer(t *testing.T) {
	tests := []struct {
		name      string
		cur       corev1.ResourceRequirements
		target    requests.Resources
		p         Policy
		wantReq   corev1.ResourceList
		wantLim   corev1.ResourceList
		wantNotes []string
	}{
		{"requests only", corev1.ResourceRequirements{Requests: rl("cpu", "500m", "memory", "512Mi")},
			requests.Resources{CPU: 0.12, Memory: 380 * MiB}, Policy{},
			rl("cpu", "120m", "memory", "380Mi"), nil, nil},
		{"no requests at all", corev1.ResourceRequirements{},
			requests.Resources{CPU: 0.12, Memory: 380 * MiB}, Policy{},
			rl("cpu", "120m", "memory", "380Mi"), nil, nil},
		{"limits keep their ratio", corev1.ResourceRequirements{Requests: rl("cpu", "500m", "memory", "512Mi"), Limits: rl("cpu", "1", "memory", "768Mi")},
			requests.Resources{CPU: 0.1, Memory: 256 * MiB}, Policy{},
			rl("cpu", "100m", "memory", "256Mi"), rl("cpu", "200m", "memory", "384Mi"), nil},
		{"limits kept as written", corev1.ResourceRequirements{Requests: rl("cpu", "500m", "memory", "512Mi"), Limits: rl("cpu", "1", "memory", "768Mi")},
			requests.Resources{CPU: 0.1, Memory: 1024 * MiB}, Policy{KeepLimits: true},
			rl("cpu", "100m", "memory", "768Mi"), rl("cpu", "1", "memory", "768Mi"), []string{"capped at its limit (trimtab.dev/limits: keep)"}},
		{"policy bounds", corev1.ResourceRequirements{Requests: rl("cpu", "500m", "memory", "512Mi")},
			requests.Resources{CPU: 0.01, Memory: 8192 * MiB}, Policy{Min: requests.Resources{CPU: 0.05}, Max: requests.Resources{Memory: 2048 * MiB}},
			rl("cpu", "50m", "memory", "2Gi"), nil, []string{"raised to trimtab.dev/requests-min 50m", "capped at trimtab.dev/requests-max 2Gi"}},
		{"LimitRange min and max", corev1.ResourceRequirements{Requests: rl("cpu", "500m", "memory", "512Mi"), Limits: rl("memory", "1Gi")},
			requests.Resources{CPU: 0.01, Memory: 4096 * MiB},
			Policy{LimitRanges: []corev1.LimitRange{lr("bounds", corev1.LimitTypeContainer, rl("cpu", "100m"), rl("memory", "2Gi"), nil)}},
			rl("cpu", "100m", "memory", "2Gi"), rl("memory", "2Gi"),
			[]string{"raised to LimitRange bounds's min 100m", "capped at LimitRange bounds's max 2Gi", "limit capped at LimitRange bounds's max 2Gi"}},
		{"LimitRange ratio raises the request", corev1.ResourceRequirements{Requests: rl("cpu", "500m"), Limits: rl("cpu", "2")},
			requests.Resources{CPU: 0.1}, Policy{KeepLimits: true,
				LimitRanges: []corev1.LimitRange{lr("ratio", corev1.LimitTypeContainer, nil, nil, rl("cpu", "4"))}},
			rl("cpu", "500m"), rl("cpu", "2"), []string{"raised to keep LimitRange ratio's limit/request ratio ≤ 4"}},
		{"memory in whole MiB, the limit's ratio too", corev1.ResourceRequirements{Requests: rl("memory", "512Mi"), Limits: rl("memory", "768Mi")},
			requests.Resources{Memory: 380.3 * MiB}, Policy{},
			rl("memory", "381Mi"), rl("memory", "572Mi"), nil},
		{"a bound off the grain holds exactly", corev1.ResourceRequirements{Requests: rl("memory", "512Mi"), Limits: rl("memory", "1Gi")},
			requests.Resources{Memory: 500.2 * MiB},
			Policy{LimitRanges: []corev1.LimitRange{lr("odd", corev1.LimitTypeContainer, nil, rl("memory", "400M"), nil)}},
			rl("memory", "400M"), rl("memory", "400M"),
			[]string{"capped at LimitRange odd's max 400M", "limit capped at LimitRange odd's max 400M"}},
		{"other resources untouched", corev1.ResourceRequirements{Requests: rl("cpu", "1", "ephemeral-storage", "1Gi", "nvidia.com/gpu", "1"), Limits: rl("nvidia.com/gpu", "1")},
			requests.Resources{CPU: 0.2}, Policy{},
			rl("cpu", "200m", "ephemeral-storage", "1Gi", "nvidia.com/gpu", "1"), rl("nvidia.com/gpu", "1"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes := Container(tt.cur, tt.target, tt.p)
			same := func(what string, got, want corev1.ResourceList) {
				t.Helper()
				if len(got) != len(want) {
					t.Errorf("%s = %v, want %v", what, got, want)
					return
				}
				for k, q := range want {
					if g, ok := got[k]; !ok || g.Cmp(q) != 0 {
						t.Errorf("%s[%s] = %v, want %v", what, k, got[k], q.String())
					}
				}
			}
			same("requests", got.Requests, tt.wantReq)
			same("limits", got.Limits, tt.wantLim)
			var notes []string
			for _, c := range changes {
				notes = append(notes, c.Notes...)
			}
			if strings.Join(notes, "|") != strings.Join(tt.wantNotes, "|") {
				t.Errorf("notes %q, want %q", notes, tt.wantNotes)
			}
		})
	}
}

func TestContainerDoesNotModifyItsInput(t *testing.T) {
	cur := corev1.ResourceRequirements{Requests: rl("cpu", "500m"), Limits: rl("cpu", "1")}
	Container(cur, requests.Resources{CPU: 0.1}, Policy{})
	if q := cur.Requests[corev1.ResourceCPU]; q.String() != "500m" {
		t.Errorf("input request now %s", q.String())
	}
	if q := cur.Limits[corev1.ResourceCPU]; q.String() != "1" {
		t.Errorf("input limit now %s", q.String())
	}
}

func TestChangeString(t *testing.T) {
	_, changes := Container(corev1.ResourceRequirements{Requests: rl("memory", "512Mi"), Limits: rl("memory", "1Gi")},
		requests.Resources{Memory: 380 * MiB}, Policy{LimitRanges: []corev1.LimitRange{lr("lr", corev1.LimitTypeContainer, rl("memory", "400Mi"), nil, nil)}})
	if len(changes) != 1 {
		t.Fatalf("changes %v", changes)
	}
	if got, want := changes[0].String(), "memory 512Mi→400Mi (limit 1Gi→760Mi; raised to LimitRange lr's min 400Mi)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	same, _ := Container(corev1.ResourceRequirements{Requests: rl("memory", "400Mi")}, requests.Resources{Memory: 400 * MiB}, Policy{})
	if _, ch := Container(same, requests.Resources{Memory: 400 * MiB}, Policy{}); ch[0].Changed() {
		t.Errorf("%s reported as a change", ch[0])
	}
}

func TestPodFits(t *testing.T) {
	cs := []corev1.ResourceRequirements{
		{Requests: rl("cpu", "300m", "memory", "1Gi"), Limits: rl("cpu", "600m")},
		{Requests: rl("cpu", "300m", "memory", "1Gi"), Limits: rl("cpu", "600m")},
	}
	lrs := []corev1.LimitRange{lr("pod", corev1.LimitTypePod, rl("cpu", "100m"), rl("cpu", "1", "memory", "4Gi"), nil)}
	if ok, why := PodFits(cs, lrs, corev1.ResourceCPU); ok || !strings.Contains(why, "pod max 1") {
		t.Errorf("cpu limits sum 1.2 > pod max 1: fits %v (%s)", ok, why)
	}
	if ok, why := PodFits(cs, lrs, corev1.ResourceMemory); !ok {
		t.Errorf("memory 2Gi ≤ 4Gi: %s", why)
	}
}
