package charts_test

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/trimtab-dev/trimtab/controllers/requests"
)

// managerArg returns the value of the manager's --name= argument, and
// whether it is there.
func managerArg(t *testing.T, dep *appsv1.Deployment, name string) (string, bool) {
	t.Helper()
	for _, a := range dep.Spec.Template.Spec.Containers[0].Args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// TestRequestsResizeValues: requests.resize reaches the manager's
// in-place resize flags, its defaults are the manager's own, and values
// the manager would refuse fail the install naming the key.
func TestRequestsResizeValues(t *testing.T) {
	dep := one[appsv1.Deployment](t, render(t), "Deployment")
	every, ok := managerArg(t, dep, "requests-resize-every")
	if d, err := time.ParseDuration(every); !ok || err != nil || d != requests.DefaultResizeEvery {
		t.Errorf("default --requests-resize-every=%q (present %v): want the manager's default %s", every, ok, requests.DefaultResizeEvery)
	}
	if n, ok := managerArg(t, dep, "requests-resizes-per-minute"); !ok || n != "10" || requests.DefaultResizesPerMinute != 10 {
		t.Errorf("default --requests-resizes-per-minute=%q (present %v): want the manager's default %d", n, ok, requests.DefaultResizesPerMinute)
	}

	dep = one[appsv1.Deployment](t, render(t, "--set", "requests.resize.every=90s,requests.resize.perMinute=3"), "Deployment")
	if v, _ := managerArg(t, dep, "requests-resize-every"); v != "90s" {
		t.Errorf("--requests-resize-every=%q, want 90s", v)
	}
	if v, _ := managerArg(t, dep, "requests-resizes-per-minute"); v != "3" {
		t.Errorf("--requests-resizes-per-minute=%q, want 3", v)
	}

	for _, tc := range []struct{ set, want string }{
		{"requests.resize.perMinute=0", "perMinute"},
		{"requests.resize.every=0s", "every"},
		{"requests.resize.every=5 minutes", "every"},
		{"requests.resize.evry=5m", "evry"},
	} {
		refused(t, tc.set, tc.want)
	}
}
