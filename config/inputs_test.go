package config

import (
	"math"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// keyValues gives every policy key a valid value other than its default,
// with the key it needs beside it (metric needs target-per-pod...).
var keyValues = map[string]map[string]string{
	AnnotationClass:          {AnnotationClass: "batch"},
	AnnotationCapacity:       {AnnotationCapacity: "spot"},
	AnnotationOnDemandBase:   {AnnotationOnDemandBase: "3"},
	AnnotationReplicas:       {AnnotationReplicas: "2..50"},
	AnnotationMode:           {AnnotationMode: "enforce"},
	AnnotationRequests:       {AnnotationRequests: "auto"},
	AnnotationMetric:         {AnnotationMetric: "sum(rate(orders_total[1m]))", AnnotationTargetPerPod: "50"},
	AnnotationTargetPerPod:   {AnnotationMetric: "sum(rate(orders_total[1m]))", AnnotationTargetPerPod: "70"},
	AnnotationDownstream:     {AnnotationDownstream: "db_p95_seconds", AnnotationDownstreamMax: "0.25"},
	AnnotationDownstreamMax:  {AnnotationDownstream: "db_p95_seconds", AnnotationDownstreamMax: "0.5"},
	AnnotationRequestsPinned: {AnnotationRequestsPinned: "sidecar"},
	AnnotationRequestsMin:    {AnnotationRequestsMin: "cpu=100m"},
	AnnotationRequestsMax:    {AnnotationRequestsMax: "memory=4Gi"},
	AnnotationLimits:         {AnnotationLimits: "keep"},
	AnnotationResize:         {AnnotationResize: "off"},
}

// notYetActing names the policy keys that reach no decider input yet, and
// why. Empty: every key reaches one.
var notYetActing = map[string]string{}

// TestEveryKeyReachesAnInput holds the converter to the schema: setting any
// policy key changes the deciders' inputs, unless the key is named in
// notYetActing.
func TestEveryKeyReachesAnInput(t *testing.T) {
	inputsOf := func(a map[string]string) Inputs {
		t.Helper()
		p, errs := ParsePolicy(a)
		if len(errs) > 0 {
			t.Fatalf("%v: %v", a, errs.ToAggregate())
		}
		in, err := p.Inputs()
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	def := inputsOf(nil)
	for _, key := range PolicyKeys {
		a, ok := keyValues[key]
		if !ok {
			t.Errorf("%s: no test value; add one to keyValues", key)
			continue
		}
		if why, ok := notYetActing[key]; ok {
			t.Logf("%s does not act yet: %s", key, why)
			continue
		}
		base := def
		if key == AnnotationTargetPerPod || key == AnnotationDownstreamMax {
			// Compare against the pair with the other number.
			pair := map[string]string{}
			for k, v := range keyValues[map[string]string{AnnotationTargetPerPod: AnnotationMetric, AnnotationDownstreamMax: AnnotationDownstream}[key]] {
				pair[k] = v
			}
			base = inputsOf(pair)
		}
		if reflect.DeepEqual(inputsOf(a), base) {
			t.Errorf("%s=%q reaches no decider input; wire it in Policy.Inputs or name it in notYetActing", key, a[key])
		}
	}
}

func TestInputs(t *testing.T) {
	p, errs := ParsePolicy(map[string]string{
		AnnotationClass: "critical", AnnotationReplicas: "2..",
		AnnotationMetric: "sum(rate(orders_total[1m]))", AnnotationTargetPerPod: "50",
		AnnotationDownstream: "db_p95_seconds", AnnotationDownstreamMax: "0.25",
	})
	if len(errs) > 0 {
		t.Fatal(errs.ToAggregate())
	}
	in, err := p.Inputs()
	if err != nil {
		t.Fatal(err)
	}
	r := in.Replicas
	if r.MinReplicas != 2 || r.MaxReplicas != math.MaxInt32 {
		t.Errorf("bounds %d..%d, want 2..unbounded", r.MinReplicas, r.MaxReplicas)
	}
	// 500 at 50 a pod is 10 pods at the target utilization.
	if got := 500 / (r.CapacityPerPod * r.TargetUtilization); math.Abs(got-10) > 1e-9 {
		t.Errorf("500 load / target 50 = %g pods, want 10", got)
	}
	if r.Guard == nil || r.Guard.Limit != 0.25 || in.Downstream == nil || in.Downstream.Query != "db_p95_seconds" {
		t.Errorf("guard %+v, downstream %+v", r.Guard, in.Downstream)
	}
	if in.Capacity != (capacity.Rule{OnDemandBase: 2}) || in.Enforce || in.Evictable || in.Requests.Auto {
		t.Errorf("inputs %+v", in)
	}
	// The live defaults are the replays' defaults: sizing ahead by the
	// reactive path's reaction time, scoring at start-up + horizon.
	if r.SizeAhead.Seconds() != 165 || r.Forecast.Lead.Seconds() != 690 || r.Forecast.TrailLag.Seconds() != 255 || r.OverloadRisk != 0.01 {
		t.Errorf("timing: size-ahead %s, lead %s, trail lag %s, overload risk %g", r.SizeAhead, r.Forecast.Lead, r.Forecast.TrailLag, r.OverloadRisk)
	}
	cpu, _ := ParsePolicy(nil)
	if in, _ := cpu.Inputs(); !in.Load.CPU() || in.Replicas.CapacityPerPod != 0 || in.Downstream != nil {
		t.Errorf("default policy: load %+v, capacity per pod %g (the controller sets it from CPU requests)", in.Load, in.Replicas.CapacityPerPod)
	}
}

func TestInputsRefusesAnInvalidPolicy(t *testing.T) {
	p := DefaultPolicy()
	p.OnDemandBase = -1
	if _, err := p.Inputs(); err == nil || !strings.Contains(err.Error(), AnnotationOnDemandBase) {
		t.Errorf("err = %v, want one naming %s", err, AnnotationOnDemandBase)
	}
}

// actsToday is what docs/policy.md's "acts today" column must say of each
// key: which running part of trimtab acts on it.
var actsToday = map[string]string{
	AnnotationClass:          "webhook",
	AnnotationCapacity:       "webhook",
	AnnotationOnDemandBase:   "webhook",
	AnnotationReplicas:       "decision controller",
	AnnotationMode:           "webhook and decision controller",
	AnnotationRequests:       "requests controller and webhook",
	AnnotationMetric:         "decision controller",
	AnnotationTargetPerPod:   "decision controller",
	AnnotationDownstream:     "decision controller",
	AnnotationDownstreamMax:  "decision controller",
	AnnotationRequestsPinned: "requests controller and webhook",
	AnnotationRequestsMin:    "requests controller and webhook",
	AnnotationRequestsMax:    "requests controller and webhook",
	AnnotationLimits:         "webhook and requests controller",
	AnnotationResize:         "requests controller",
}

// TestPolicyDocSaysWhatActs keeps docs/policy.md's key table honest: one
// row per key, and an "acts today" cell that starts as actsToday says.
func TestPolicyDocSaysWhatActs(t *testing.T) {
	b, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(trimtab\\.dev/[a-z-]+)` \\|(.*)\\|\\s*$")
	seen := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		key, cells := m[1], strings.Split(m[2], "|")
		want, ok := actsToday[key]
		if !ok || len(cells) < 4 {
			continue // another table (pod annotations, labels)
		}
		seen[key] = true
		if got := strings.TrimSpace(cells[len(cells)-1]); !strings.HasPrefix(got, want) {
			t.Errorf("docs/policy.md: %s acts today %q, want it to start with %q", key, got, want)
		}
	}
	for _, k := range PolicyKeys {
		if !seen[k] {
			t.Errorf("docs/policy.md: no row for %s in the workload annotation table", k)
		}
	}
}
