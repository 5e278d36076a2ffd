package config

import (
	"strings"
	"testing"
)

// a builds an annotation map from key, value pairs.
func a(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// with returns DefaultPolicy changed by f.
func with(f func(*Policy)) Policy {
	p := DefaultPolicy()
	f(&p)
	return p
}

func TestParsePolicyValid(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want Policy
	}{
		{"nil map is the default", nil, DefaultPolicy()},
		{"foreign keys ignored", a("app.kubernetes.io/name", "shop", "status.trimtab.dev/x", "y"), DefaultPolicy()},
		{"output keys ignored", a(AnnotationDecision, "capacity: spot", AnnotationDecisionJSON, "{}"), DefaultPolicy()},

		{"class critical defaults base 2", a(AnnotationClass, "critical"), with(func(p *Policy) { p.Class, p.OnDemandBase = ClassCritical, 2 })},
		{"class standard", a(AnnotationClass, "standard"), DefaultPolicy()},
		{"class batch defaults base 0", a(AnnotationClass, "batch"), with(func(p *Policy) { p.Class, p.OnDemandBase = ClassBatch, 0 })},

		{"capacity auto", a(AnnotationCapacity, "auto"), DefaultPolicy()},
		{"capacity spot has no base", a(AnnotationCapacity, "spot"), with(func(p *Policy) { p.Capacity, p.OnDemandBase = CapacitySpot, 0 })},
		{"capacity on-demand has no base", a(AnnotationCapacity, "on-demand", AnnotationClass, "critical"),
			with(func(p *Policy) { p.Class, p.Capacity, p.OnDemandBase = ClassCritical, CapacityOnDemand, 0 })},

		{"base explicit", a(AnnotationOnDemandBase, "3"), with(func(p *Policy) { p.OnDemandBase = 3 })},
		{"base zero on critical", a(AnnotationClass, "critical", AnnotationOnDemandBase, "0"), with(func(p *Policy) { p.Class, p.OnDemandBase = ClassCritical, 0 })},
		{"base with explicit auto", a(AnnotationCapacity, "auto", AnnotationOnDemandBase, "5"), with(func(p *Policy) { p.OnDemandBase = 5 })},

		{"replicas range", a(AnnotationReplicas, "2..10"), with(func(p *Policy) { p.MinReplicas, p.MaxReplicas = 2, 10 })},
		{"replicas equal", a(AnnotationReplicas, "3..3"), with(func(p *Policy) { p.MinReplicas, p.MaxReplicas = 3, 3 })},
		{"replicas min only", a(AnnotationReplicas, "2.."), with(func(p *Policy) { p.MinReplicas = 2 })},
		{"replicas max only", a(AnnotationReplicas, "..50"), with(func(p *Policy) { p.MaxReplicas = 50 })},
		{"replicas int32 max", a(AnnotationReplicas, "1..2147483647"), with(func(p *Policy) { p.MinReplicas, p.MaxReplicas = 1, 2147483647 })},

		{"mode enforce", a(AnnotationMode, "enforce"), with(func(p *Policy) { p.Mode = ModeEnforce })},
		{"mode shadow", a(AnnotationMode, "shadow"), DefaultPolicy()},
		{"requests auto", a(AnnotationRequests, "auto"), with(func(p *Policy) { p.Requests = RequestsAuto })},
		{"requests off", a(AnnotationRequests, "off"), DefaultPolicy()},

		{"metric and target", a(AnnotationMetric, `sum(rate(orders_total{app="shop"}[1m]))`, AnnotationTargetPerPod, "50"),
			with(func(p *Policy) { p.Metric, p.TargetPerPod = `sum(rate(orders_total{app="shop"}[1m]))`, 50 })},
		{"target with exponent", a(AnnotationMetric, "queue_depth", AnnotationTargetPerPod, "2.5e3"),
			with(func(p *Policy) { p.Metric, p.TargetPerPod = "queue_depth", 2500 })},
		{"target without leading digit", a(AnnotationMetric, "queue_depth", AnnotationTargetPerPod, ".5"),
			with(func(p *Policy) { p.Metric, p.TargetPerPod = "queue_depth", 0.5 })},
		{"base with leading zero", a(AnnotationOnDemandBase, "03"), with(func(p *Policy) { p.OnDemandBase = 3 })},
		{"fractional target", a(AnnotationMetric, "queue_depth", AnnotationTargetPerPod, "2.5"),
			with(func(p *Policy) { p.Metric, p.TargetPerPod = "queue_depth", 2.5 })},
		{"downstream and max", a(AnnotationDownstream, `histogram_quantile(0.95, rate(db_seconds_bucket[5m]))`, AnnotationDownstreamMax, "0.25"),
			with(func(p *Policy) {
				p.Downstream, p.DownstreamMax = `histogram_quantile(0.95, rate(db_seconds_bucket[5m]))`, 0.25
			})},
		{"brackets inside strings do not count", a(AnnotationMetric, `up{job="a)b"}`, AnnotationTargetPerPod, "1"),
			with(func(p *Policy) { p.Metric, p.TargetPerPod = `up{job="a)b"}`, 1 })},

		{"everything", a(AnnotationClass, "batch", AnnotationCapacity, "auto", AnnotationOnDemandBase, "1",
			AnnotationReplicas, "1..20", AnnotationMode, "enforce", AnnotationRequests, "auto"),
			Policy{Class: ClassBatch, Capacity: CapacityAuto, OnDemandBase: 1, MinReplicas: 1, MaxReplicas: 20, Mode: ModeEnforce, Requests: RequestsAuto,
				Limits: LimitsProportional, Resize: ResizeInPlace}},

		{"requests pinned", a(AnnotationRequestsPinned, "sidecar,istio-proxy"), with(func(p *Policy) { p.RequestsPinned = "sidecar,istio-proxy" })},
		{"requests bounds", a(AnnotationRequestsMin, "cpu=100m,memory=256Mi", AnnotationRequestsMax, "memory=4Gi"),
			with(func(p *Policy) { p.RequestsMin, p.RequestsMax = "cpu=100m,memory=256Mi", "memory=4Gi" })},
		{"limits keep", a(AnnotationLimits, "keep"), with(func(p *Policy) { p.Limits = LimitsKeep })},
		{"resize off", a(AnnotationResize, "off"), with(func(p *Policy) { p.Resize = ResizeOff })},
		{"resize or recreate", a(AnnotationResize, "in-place-or-recreate"), with(func(p *Policy) { p.Resize = ResizeInPlaceOrRecreate })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ParsePolicy(tt.in)
			if len(errs) > 0 {
				t.Fatalf("ParsePolicy(%v) errors: %v", tt.in, errs)
			}
			if got != tt.want {
				t.Fatalf("ParsePolicy(%v)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
			again, errs := ParsePolicy(got.Annotations())
			if len(errs) > 0 || again != got {
				t.Fatalf("round trip of %+v via %v: got %+v, errors %v", got, got.Annotations(), again, errs)
			}
		})
	}
}

func TestParsePolicyInvalid(t *testing.T) {
	const p = "metadata.annotations"
	tests := []struct {
		name string
		in   map[string]string
		want []string // every error message, in order
	}{
		{"replicas reversed", a(AnnotationReplicas, "10..2"),
			[]string{p + `[trimtab.dev/replicas]: Invalid value: "10..2": min must be ≤ max, e.g. "2..10"`}},
		{"replicas no dots", a(AnnotationReplicas, "5"),
			[]string{p + `[trimtab.dev/replicas]: Invalid value: "5": ` + replicasForm}},
		{"replicas empty bounds", a(AnnotationReplicas, ".."), []string{p + `[trimtab.dev/replicas]: Invalid value: "..": ` + replicasForm}},
		{"replicas dash", a(AnnotationReplicas, "2-10"), []string{p + `[trimtab.dev/replicas]: Invalid value: "2-10": ` + replicasForm}},
		{"replicas three dots", a(AnnotationReplicas, "2...10"), []string{p + `[trimtab.dev/replicas]: Invalid value: "2...10": ` + replicasForm}},
		{"replicas spaces", a(AnnotationReplicas, "2 .. 10"), []string{p + `[trimtab.dev/replicas]: Invalid value: "2 .. 10": ` + replicasForm}},
		{"replicas overflow", a(AnnotationReplicas, "1..2147483648"), []string{p + `[trimtab.dev/replicas]: Invalid value: "1..2147483648": ` + replicasForm}},
		{"replicas plus sign", a(AnnotationReplicas, "+2..5"), []string{p + `[trimtab.dev/replicas]: Invalid value: "+2..5": ` + replicasForm}},
		{"replicas plus sign max", a(AnnotationReplicas, "2..+5"), []string{p + `[trimtab.dev/replicas]: Invalid value: "2..+5": ` + replicasForm}},
		{"replicas hexadecimal", a(AnnotationReplicas, "0x2..5"), []string{p + `[trimtab.dev/replicas]: Invalid value: "0x2..5": ` + replicasForm}},
		{"replicas zero min", a(AnnotationReplicas, "0..10"),
			[]string{p + `[trimtab.dev/replicas]: Invalid value: "0..10": min must be ≥ 1 (trimtab does not scale to zero); leave it out for no bound, e.g. "..10"`}},
		{"replicas negative max", a(AnnotationReplicas, "1..-3"),
			[]string{p + `[trimtab.dev/replicas]: Invalid value: "1..-3": max must be ≥ 1 (trimtab does not scale to zero); leave it out for no bound, e.g. "..10"`}},

		{"class typo", a(AnnotationClass, "critcal"),
			[]string{p + `[trimtab.dev/class]: Unsupported value: "critcal": supported values: "critical", "standard", "batch"`}},
		{"class case", a(AnnotationClass, "Critical"),
			[]string{p + `[trimtab.dev/class]: Unsupported value: "Critical": supported values: "critical", "standard", "batch"`}},
		{"capacity", a(AnnotationCapacity, "ondemand"),
			[]string{p + `[trimtab.dev/capacity]: Unsupported value: "ondemand": supported values: "auto", "spot", "on-demand"`}},
		{"mode", a(AnnotationMode, "dry-run"),
			[]string{p + `[trimtab.dev/mode]: Unsupported value: "dry-run": supported values: "enforce", "shadow"`}},
		{"requests", a(AnnotationRequests, "true"),
			[]string{p + `[trimtab.dev/requests]: Unsupported value: "true": supported values: "auto", "off"`}},
		{"pinned with spaces", a(AnnotationRequestsPinned, "app, sidecar"),
			[]string{p + `[trimtab.dev/requests-pinned]: Invalid value: "app, sidecar": ` + pinnedForm + `; " sidecar" is not a container name: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`}},
		{"pinned twice", a(AnnotationRequestsPinned, "app,app"),
			[]string{p + `[trimtab.dev/requests-pinned]: Invalid value: "app,app": ` + pinnedForm + `; "app" is named twice`}},
		{"pinned empty", a(AnnotationRequestsPinned, ""), []string{p + `[trimtab.dev/requests-pinned]: Invalid value: "": ` + pinnedForm}},
		{"bounds unknown resource", a(AnnotationRequestsMin, "gpu=1"),
			[]string{p + `[trimtab.dev/requests-min]: Invalid value: "gpu=1": ` + boundsForm + `; "gpu" is not a resource trimtab sizes (cpu, memory)`}},
		{"bounds not a quantity", a(AnnotationRequestsMax, "cpu=lots"),
			[]string{p + `[trimtab.dev/requests-max]: Invalid value: "cpu=lots": ` + boundsForm + `; cpu=lots is not a positive quantity`}},
		{"bounds zero", a(AnnotationRequestsMax, "memory=0"),
			[]string{p + `[trimtab.dev/requests-max]: Invalid value: "memory=0": ` + boundsForm + `; memory=0 is not a positive quantity`}},
		{"bounds twice", a(AnnotationRequestsMin, "cpu=1,cpu=2"),
			[]string{p + `[trimtab.dev/requests-min]: Invalid value: "cpu=1,cpu=2": ` + boundsForm + `; cpu is given twice`}},
		{"bounds no pair", a(AnnotationRequestsMin, "cpu"),
			[]string{p + `[trimtab.dev/requests-min]: Invalid value: "cpu": ` + boundsForm + `; "cpu" is not resource=quantity`}},
		{"bounds reversed", a(AnnotationRequestsMin, "memory=2Gi", AnnotationRequestsMax, "cpu=1,memory=1Gi"),
			[]string{p + `[trimtab.dev/requests-max]: Invalid value: "cpu=1,memory=1Gi": memory max is below trimtab.dev/requests-min's memory; the max must be at least the min`}},
		{"limits", a(AnnotationLimits, "scale"),
			[]string{p + `[trimtab.dev/limits]: Unsupported value: "scale": supported values: "proportional", "keep"`}},
		{"resize", a(AnnotationResize, "recreate"),
			[]string{p + `[trimtab.dev/resize]: Unsupported value: "recreate": supported values: "in-place", "in-place-or-recreate", "off"`}},

		{"base not a number", a(AnnotationOnDemandBase, "two"),
			[]string{p + `[trimtab.dev/on-demand-base]: Invalid value: "two": must be a whole number ≥ 0, e.g. "2"`}},
		{"base negative", a(AnnotationOnDemandBase, "-1"),
			[]string{p + `[trimtab.dev/on-demand-base]: Invalid value: "-1": must be a whole number ≥ 0, e.g. "2"`}},
		{"base with a plus sign", a(AnnotationOnDemandBase, "+3"),
			[]string{p + `[trimtab.dev/on-demand-base]: Invalid value: "+3": must be a whole number ≥ 0, e.g. "2"`}},
		{"base with a space", a(AnnotationOnDemandBase, " 3"),
			[]string{p + `[trimtab.dev/on-demand-base]: Invalid value: " 3": must be a whole number ≥ 0, e.g. "2"`}},
		{"base too large", a(AnnotationOnDemandBase, "2147483648"),
			[]string{p + `[trimtab.dev/on-demand-base]: Invalid value: "2147483648": must be a whole number from 0 to 2147483647, e.g. "2"`}},
		{"base with spot", a(AnnotationCapacity, "spot", AnnotationOnDemandBase, "2"),
			[]string{p + `[trimtab.dev/on-demand-base]: Invalid value: "2": applies only with trimtab.dev/capacity: "auto" (this workload has "spot"); remove it, or set capacity to "auto"`}},

		{"metric without target", a(AnnotationMetric, "up"),
			[]string{p + `[trimtab.dev/target-per-pod]: Required value: required with trimtab.dev/metric: the metric units one pod should carry, a positive number, e.g. "50"`}},
		{"target without metric", a(AnnotationTargetPerPod, "50"),
			[]string{p + `[trimtab.dev/metric]: Required value: required with trimtab.dev/target-per-pod: a PromQL expression, or remove trimtab.dev/target-per-pod`}},
		{"target zero", a(AnnotationMetric, "up", AnnotationTargetPerPod, "0"),
			[]string{p + `[trimtab.dev/target-per-pod]: Invalid value: "0": must be a positive number, e.g. "50"`}},
		{"target NaN", a(AnnotationMetric, "up", AnnotationTargetPerPod, "NaN"),
			[]string{p + `[trimtab.dev/target-per-pod]: Invalid value: "NaN": must be a positive number, e.g. "50"`}},
		{"target Inf", a(AnnotationMetric, "up", AnnotationTargetPerPod, "+Inf"),
			[]string{p + `[trimtab.dev/target-per-pod]: Invalid value: "+Inf": must be a positive number, e.g. "50"`}},
		{"target plus sign", a(AnnotationMetric, "up", AnnotationTargetPerPod, "+50"),
			[]string{p + `[trimtab.dev/target-per-pod]: Invalid value: "+50": must be a positive number, e.g. "50"`}},
		{"target hexadecimal", a(AnnotationMetric, "up", AnnotationTargetPerPod, "0x1p-2"),
			[]string{p + `[trimtab.dev/target-per-pod]: Invalid value: "0x1p-2": must be a positive number, e.g. "50"`}},
		{"target underscores", a(AnnotationMetric, "up", AnnotationTargetPerPod, "1_000"),
			[]string{p + `[trimtab.dev/target-per-pod]: Invalid value: "1_000": must be a positive number, e.g. "50"`}},
		{"target units", a(AnnotationMetric, "up", AnnotationTargetPerPod, "50rps"),
			[]string{p + `[trimtab.dev/target-per-pod]: Invalid value: "50rps": must be a positive number, e.g. "50"`}},
		{"metric unbalanced", a(AnnotationMetric, "sum(rate(x[1m])", AnnotationTargetPerPod, "5"),
			[]string{p + `[trimtab.dev/metric]: Invalid value: "sum(rate(x[1m])": must be a PromQL expression, e.g. "sum(rate(http_requests_total{app=\"shop\"}[1m]))"; unclosed '('`}},
		{"metric stray close", a(AnnotationMetric, "x]", AnnotationTargetPerPod, "5"),
			[]string{p + `[trimtab.dev/metric]: Invalid value: "x]": must be a PromQL expression, e.g. "sum(rate(http_requests_total{app=\"shop\"}[1m]))"; unexpected ']' at byte 1`}},
		{"metric unclosed quote", a(AnnotationMetric, `up{a="b}`, AnnotationTargetPerPod, "5"),
			[]string{p + `[trimtab.dev/metric]: Invalid value: "up{a=\"b}": must be a PromQL expression, e.g. "sum(rate(http_requests_total{app=\"shop\"}[1m]))"; unclosed " quote`}},
		{"metric blank", a(AnnotationMetric, "  ", AnnotationTargetPerPod, "5"),
			[]string{p + `[trimtab.dev/metric]: Invalid value: "  ": must be a PromQL expression, e.g. "sum(rate(http_requests_total{app=\"shop\"}[1m]))"`}},
		{"downstream without max", a(AnnotationDownstream, "db_p95"),
			[]string{p + `[trimtab.dev/downstream-max]: Required value: required with trimtab.dev/downstream: the downstream value above which trimtab stops scaling out, a positive number, e.g. "0.25"`}},
		{"downstream max negative", a(AnnotationDownstream, "db_p95", AnnotationDownstreamMax, "-1"),
			[]string{p + `[trimtab.dev/downstream-max]: Invalid value: "-1": must be a positive number, e.g. "0.25"`}},

		{"unknown key typo", a("trimtab.dev/capcity", "spot"),
			[]string{p + `[trimtab.dev/capcity]: Invalid value: "trimtab.dev/capcity": unknown trimtab annotation; did you mean "trimtab.dev/capacity"?`}},
		{"unknown key singular", a("trimtab.dev/replica", "2..3"),
			[]string{p + `[trimtab.dev/replica]: Invalid value: "trimtab.dev/replica": unknown trimtab annotation; did you mean "trimtab.dev/replicas"?`}},
		{"unknown key case", a("trimtab.dev/Class", "batch"),
			[]string{p + `[trimtab.dev/Class]: Invalid value: "trimtab.dev/Class": unknown trimtab annotation; did you mean "trimtab.dev/class"?`}},
		{"unknown key ondemand", a("trimtab.dev/ondemand-base", "1"),
			[]string{p + `[trimtab.dev/ondemand-base]: Invalid value: "trimtab.dev/ondemand-base": unknown trimtab annotation; did you mean "trimtab.dev/on-demand-base"?`}},
		{"misspelled prefix", a("trimtab.de/mode", "enforce"),
			[]string{p + `[trimtab.de/mode]: Invalid value: "trimtab.de/mode": unknown trimtab annotation; did you mean "trimtab.dev/mode"?`}},
		{"upper-case prefix", a("Trimtab.dev/mode", "enforce"),
			[]string{p + `[Trimtab.dev/mode]: Invalid value: "Trimtab.dev/mode": unknown trimtab annotation; did you mean "trimtab.dev/mode"?`}},
		{"unknown key far", a("trimtab.dev/priority", "high"),
			[]string{p + `[trimtab.dev/priority]: Invalid value: "trimtab.dev/priority": unknown trimtab annotation; known keys: ` + knownKeysList()}},
		{"namespace label as annotation", a(NamespaceLabel, "true"),
			[]string{p + `[trimtab.dev/enabled]: Invalid value: "trimtab.dev/enabled": is a namespace label, not a workload annotation; opt the namespace in with ` +
				"`kubectl label namespace <namespace> trimtab.dev/enabled=true`"}},

		{"all errors together", a(AnnotationClass, "gold", AnnotationCapacity, "cheap", AnnotationReplicas, "10..2",
			AnnotationMode, "on", AnnotationTargetPerPod, "x", "trimtab.dev/moed", "enforce"),
			[]string{
				p + `[trimtab.dev/class]: Unsupported value: "gold": supported values: "critical", "standard", "batch"`,
				p + `[trimtab.dev/capacity]: Unsupported value: "cheap": supported values: "auto", "spot", "on-demand"`,
				p + `[trimtab.dev/mode]: Unsupported value: "on": supported values: "enforce", "shadow"`,
				p + `[trimtab.dev/target-per-pod]: Invalid value: "x": must be a positive number, e.g. "50"`,
				p + `[trimtab.dev/moed]: Invalid value: "trimtab.dev/moed": unknown trimtab annotation; did you mean "trimtab.dev/mode"?`,
				p + `[trimtab.dev/replicas]: Invalid value: "10..2": min must be ≤ max, e.g. "2..10"`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := ParsePolicy(tt.in)
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("ParsePolicy(%v) errors\n got: %s\nwant: %s", tt.in, strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
		})
	}
}

// A huge bad value is quoted by its first MaxQuotedValue bytes, whatever the
// key: a 200 KiB value must not come back as a 200 KiB denial or log line.
func TestParsePolicyQuotesShortPrefix(t *testing.T) {
	huge := strings.Repeat("é", 100*1024) // 200 KiB, two bytes a character
	for _, key := range []string{AnnotationClass, AnnotationCapacity, AnnotationMode, AnnotationRequests,
		AnnotationOnDemandBase, AnnotationReplicas, AnnotationMetric, AnnotationTargetPerPod,
		AnnotationDownstream, AnnotationDownstreamMax, "trimtab.dev/" + strings.Repeat("x", 300)} {
		t.Run(key[:min(len(key), 40)], func(t *testing.T) {
			_, errs := ParsePolicy(a(key, huge))
			if len(errs) == 0 {
				t.Fatal("a 200 KiB value was accepted")
			}
			for _, e := range errs {
				msg := e.Error()
				if len(msg) > 1024 {
					t.Errorf("error is %d bytes: %.200s…", len(msg), msg)
				}
				if strings.Contains(msg, strings.Repeat("é", MaxQuotedValue)) {
					t.Errorf("error quotes more than %d bytes of the value: %.200s…", MaxQuotedValue, msg)
				}
				if IsPolicyKey(key) && e.Field == KeyPath(key).String() && !strings.Contains(msg, "the value is 204800 bytes") {
					t.Errorf("error does not say the value was cut: %s", msg)
				}
			}
		})
	}
}

func TestShortValue(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		whole    bool
	}{
		{"", "", true},
		{strings.Repeat("a", MaxQuotedValue), strings.Repeat("a", MaxQuotedValue), true},
		{strings.Repeat("a", MaxQuotedValue+1), strings.Repeat("a", MaxQuotedValue) + "…", false},
		// A two-byte character straddling the cut is left out whole.
		{"a" + strings.Repeat("é", MaxQuotedValue), "a" + strings.Repeat("é", MaxQuotedValue/2-1) + "…", false},
	} {
		got, whole := ShortValue(tc.in)
		if got != tc.want || whole != tc.whole {
			t.Errorf("ShortValue(%.20q… %d bytes) = %q, %v; want %q, %v", tc.in, len(tc.in), got, whole, tc.want, tc.whole)
		}
	}
}

func TestIsDecimal(t *testing.T) {
	for s, want := range map[string]bool{
		"50": true, "2.5": true, ".5": true, "5.": true, "1e3": true, "1e+21": true, "2.5E-2": true, "007": true,
		"": false, ".": false, "+5": false, "-5": false, "0x10": false, "1_000": false, "Inf": false, "NaN": false,
		"1e": false, "1e+": false, "e3": false, "5 ": false, "1.2.3": false,
	} {
		if got := isDecimal(s); got != want {
			t.Errorf("isDecimal(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidateTyped(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want []string
	}{
		{"default", DefaultPolicy(), nil},
		{"zero value", Policy{}, []string{"trimtab.dev/class", "trimtab.dev/capacity", "trimtab.dev/mode", "trimtab.dev/requests", "trimtab.dev/limits", "trimtab.dev/resize"}},
		{"base on spot", with(func(p *Policy) { p.Capacity = CapacitySpot }), []string{"trimtab.dev/on-demand-base"}},
		{"negative replicas", with(func(p *Policy) { p.MinReplicas = -1 }), []string{"trimtab.dev/replicas"}},
		{"reversed", with(func(p *Policy) { p.MinReplicas, p.MaxReplicas = 5, 4 }), []string{"trimtab.dev/replicas"}},
		{"target NaN", with(func(p *Policy) { p.Metric, p.TargetPerPod = "up", negZeroNaN() }), []string{"trimtab.dev/target-per-pod"}},
		{"bad metric", with(func(p *Policy) { p.Metric, p.TargetPerPod = "up(", 1 }), []string{"trimtab.dev/metric"}},
		{"downstream max alone", with(func(p *Policy) { p.DownstreamMax = 1 }), []string{"trimtab.dev/downstream"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range tt.p.Validate() {
				got = append(got, strings.TrimSuffix(strings.TrimPrefix(e.Field, "metadata.annotations["), "]"))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("Validate(%+v) fields = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func negZeroNaN() float64 {
	var zero float64
	return zero / zero
}

func TestDefaultOnDemandBase(t *testing.T) {
	for c, want := range map[Class]int{ClassCritical: 2, ClassStandard: 1, ClassBatch: 0} {
		if got := DefaultOnDemandBase(c); got != want {
			t.Errorf("DefaultOnDemandBase(%s) = %d, want %d", c, got, want)
		}
	}
}

func TestAnnotationsCanonical(t *testing.T) {
	got := Policy{Class: ClassBatch, Capacity: CapacitySpot, Mode: ModeEnforce, Requests: RequestsOff, MinReplicas: 2}.Annotations()
	want := a(AnnotationClass, "batch", AnnotationCapacity, "spot", AnnotationMode, "enforce", AnnotationRequests, "off", AnnotationReplicas, "2..")
	if len(got) != len(want) {
		t.Fatalf("Annotations() = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("Annotations()[%s] = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func TestSuggestKey(t *testing.T) {
	tests := map[string]string{
		"trimtab.dev/clas":            AnnotationClass,
		"trimtab.dev/target":          "",
		"trimtab.dev/target-per-pods": AnnotationTargetPerPod,
		"trimtab.dev/downstream_max":  AnnotationDownstreamMax,
		"trimtab.dev/decison":         AnnotationDecision,
		"trimtab.dev/x":               "",
	}
	for in, want := range tests {
		if got := suggestKey(in); got != want {
			t.Errorf("suggestKey(%q) = %q, want %q", in, got, want)
		}
	}
}
