package validating

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/trimtab-dev/trimtab/config"
)

const ns = "shop"

func testScheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, autoscalingv2.AddToScheme,
	} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func meta(name string, ann map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: ann}
}

func deployment(name string, ann map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: meta(name, ann)}
}

func statefulSet(name string, ann map[string]string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"}, ObjectMeta: meta(name, ann)}
}

func job(name string, ann map[string]string) *batchv1.Job {
	return &batchv1.Job{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}, ObjectMeta: meta(name, ann)}
}

func cronJob(name string, ann map[string]string) *batchv1.CronJob {
	return &batchv1.CronJob{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"}, ObjectMeta: meta(name, ann)}
}

func hpa(name, kind, target string) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: kind, Name: target},
			MaxReplicas:    10,
		},
	}
}

func ann(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// request builds the AdmissionRequest the API server would send for obj.
func request(t testing.TB, op admissionv1.Operation, obj, old client.Object) admission.Request {
	t.Helper()
	raw := func(o client.Object) runtime.RawExtension {
		if o == nil {
			return runtime.RawExtension{}
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return runtime.RawExtension{Raw: b}
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	r := admissionv1.AdmissionRequest{
		UID:       types.UID("uid-1"),
		Kind:      metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
		Namespace: obj.GetNamespace(),
		Name:      obj.GetName(),
		Operation: op,
		Object:    raw(obj),
		OldObject: raw(old),
	}
	if op == admissionv1.Delete {
		r.Object, r.OldObject = runtime.RawExtension{}, raw(obj)
	}
	return admission.Request{AdmissionRequest: r}
}

// newHandler is the full webhook over a fake client holding hpas.
func newHandler(t testing.TB, hpas ...client.Object) *admission.Webhook {
	t.Helper()
	s := testScheme(t)
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(hpas...).Build()
	return NewWebhook(s, c, config.DefaultSettings())
}

func TestRejectsBadPolicyOnEveryKind(t *testing.T) {
	bad := ann(config.AnnotationReplicas, "10..2")
	tests := []struct {
		obj  client.Object
		want string
	}{
		{deployment("web", bad), `Deployment.apps "web" is invalid`},
		{statefulSet("db", bad), `StatefulSet.apps "db" is invalid`},
		{job("etl", bad), `Job.batch "etl" is invalid`},
		{cronJob("nightly", bad), `CronJob.batch "nightly" is invalid`},
	}
	h := newHandler(t)
	for _, tt := range tests {
		for _, op := range []admissionv1.Operation{admissionv1.Create, admissionv1.Update} {
			t.Run(tt.want+"/"+string(op), func(t *testing.T) {
				var old client.Object
				if op == admissionv1.Update {
					old = tt.obj.DeepCopyObject().(client.Object)
					old.SetAnnotations(nil)
				}
				resp := h.Handle(context.Background(), request(t, op, tt.obj, old))
				if resp.Allowed {
					t.Fatalf("allowed, want denied")
				}
				wantMsg := tt.want + `: metadata.annotations[trimtab.dev/replicas]: Invalid value: "10..2": min must be ≤ max, e.g. "2..10"`
				if resp.Result.Message != wantMsg || resp.Result.Code != 422 || resp.Result.Reason != metav1.StatusReasonInvalid {
					t.Fatalf("result = %d %s %q\nwant 422 Invalid %q", resp.Result.Code, resp.Result.Reason, resp.Result.Message, wantMsg)
				}
				causes := resp.Result.Details.Causes
				if len(causes) != 1 || causes[0].Field != "metadata.annotations[trimtab.dev/replicas]" ||
					causes[0].Type != metav1.CauseTypeFieldValueInvalid {
					t.Fatalf("causes = %+v", causes)
				}
			})
		}
	}
}

func TestRejectsWithEveryErrorAsACause(t *testing.T) {
	d := deployment("web", ann(config.AnnotationClass, "gold", "trimtab.dev/capcity", "spot", config.AnnotationMetric, "up"))
	resp := newHandler(t).Handle(context.Background(), request(t, admissionv1.Create, d, nil))
	if resp.Allowed {
		t.Fatal("allowed, want denied")
	}
	var fields []string
	for _, c := range resp.Result.Details.Causes {
		fields = append(fields, c.Field)
	}
	want := "metadata.annotations[trimtab.dev/class],metadata.annotations[trimtab.dev/capcity],metadata.annotations[trimtab.dev/target-per-pod]"
	if strings.Join(fields, ",") != want {
		t.Fatalf("cause fields = %v\nwant %s", fields, want)
	}
	if !strings.Contains(resp.Result.Message, `did you mean "trimtab.dev/capacity"?`) {
		t.Fatalf("message lacks the suggestion: %s", resp.Result.Message)
	}
}

func TestAllows(t *testing.T) {
	good := ann(config.AnnotationClass, "critical", config.AnnotationReplicas, "2..20", config.AnnotationMode, "enforce",
		config.AnnotationCapacity, "auto", config.AnnotationOnDemandBase, "2", "app.kubernetes.io/name", "web")
	excluded := deployment("web", ann(config.AnnotationReplicas, "10..2"))
	excluded.Namespace = "kube-system"
	withOutput := deployment("web", ann(config.AnnotationDecision, "copied from a pod"))
	withOutput.Spec.Template.Annotations = ann(config.AnnotationDecision, "x", config.AnnotationDecisionJSON, "{}")
	tests := []struct {
		name string
		req  admission.Request
	}{
		{"valid deployment", request(t, admissionv1.Create, func() client.Object {
			d := deployment("web", good)
			d.Spec.Replicas = ptr.To[int32](3)
			return d
		}(), nil)},
		{"no annotations", request(t, admissionv1.Create, statefulSet("db", nil), nil)},
		{"batch deployment on on-demand", request(t, admissionv1.Create,
			deployment("w", ann(config.AnnotationClass, "batch", config.AnnotationCapacity, "on-demand")), nil)},
		{"excluded namespace, bad policy", request(t, admissionv1.Create, excluded, nil)},
		{"output keys anywhere", request(t, admissionv1.Create, withOutput, nil)},
		{"delete of a bad object", request(t, admissionv1.Delete, deployment("web", ann(config.AnnotationMode, "x")), nil)},
		{"a kind it does not validate", func() admission.Request {
			r := request(t, admissionv1.Create, deployment("web", ann(config.AnnotationMode, "x")), nil)
			r.Kind = metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}
			return r
		}()},
	}
	h := newHandler(t, hpa("other", "Deployment", "api"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.Handle(context.Background(), tt.req)
			if !resp.Allowed || len(resp.Warnings) > 0 {
				t.Fatalf("allowed=%v warnings=%q result=%+v, want allowed without warnings", resp.Allowed, resp.Warnings, resp.Result)
			}
		})
	}
}

func TestNeverRejectsUndecodable(t *testing.T) {
	r := request(t, admissionv1.Create, deployment("web", nil), nil)
	r.Object.Raw = []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":"not a map"}}`)
	resp := newHandler(t).Handle(context.Background(), r)
	if !resp.Allowed || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "could not read this Deployment") {
		t.Fatalf("allowed=%v warnings=%q, want allowed with a could-not-read warning", resp.Allowed, resp.Warnings)
	}
}

func TestUpdateRatchetsUnchangedInvalidAnnotations(t *testing.T) {
	bad := ann(config.AnnotationReplicas, "10..2", "app", "x")
	tests := []struct {
		name        string
		old, new    map[string]string
		wantAllowed bool
	}{
		{"unchanged invalid: allowed", bad, ann(config.AnnotationReplicas, "10..2", "app", "y"), true},
		{"newly invalid: denied", ann(config.AnnotationReplicas, "2..10"), bad, false},
		{"still invalid but changed: denied", bad, ann(config.AnnotationReplicas, "10..3"), false},
		{"fixed: allowed", bad, ann(config.AnnotationReplicas, "2..10"), true},
	}
	h := newHandler(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.Handle(context.Background(), request(t, admissionv1.Update, deployment("web", tt.new), deployment("web", tt.old)))
			if resp.Allowed != tt.wantAllowed {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tt.wantAllowed, resp.Result)
			}
			wantWarning := tt.wantAllowed && tt.old[config.AnnotationReplicas] == tt.new[config.AnnotationReplicas]
			if got := len(resp.Warnings) == 1 && strings.Contains(resp.Warnings[0], "trimtab ignores this Deployment"); got != wantWarning {
				t.Fatalf("warnings = %q, want ignored-warning %v", resp.Warnings, wantWarning)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	tmpl := deployment("web", nil)
	tmpl.Spec.Template.Annotations = ann(config.AnnotationClass, "batch", config.AnnotationDecision, "x")
	tests := []struct {
		name string
		obj  client.Object
		hpas []client.Object
		want []string // substrings, one per expected warning, in order
	}{
		{"critical on spot", deployment("web", ann(config.AnnotationClass, "critical", config.AnnotationCapacity, "spot")), nil,
			[]string{`a spot reclaim can stop every pod of this critical Deployment at once`}},
		{"critical with base 0", statefulSet("db", ann(config.AnnotationClass, "critical", config.AnnotationOnDemandBase, "0")), nil,
			[]string{`trimtab.dev/on-demand-base: "0" puts every pod of this critical StatefulSet on spot`}},
		{"base covers max", deployment("web", ann(config.AnnotationOnDemandBase, "5", config.AnnotationReplicas, "1..4")), nil,
			[]string{`trimtab.dev/on-demand-base: "5" is at least the replica maximum 4`}},
		{"base covers spec.replicas without a replicas annotation", func() client.Object {
			d := deployment("web", ann(config.AnnotationOnDemandBase, "3"))
			d.Spec.Replicas = ptr.To[int32](2)
			return d
		}(), nil, []string{`trimtab.dev/on-demand-base: "3" is at least spec.replicas 2, so at its current size no pod of this Deployment runs on spot`}},
		{"base covers spec.replicas below the maximum", func() client.Object {
			s := statefulSet("db", ann(config.AnnotationOnDemandBase, "3", config.AnnotationReplicas, "1..10"))
			s.Spec.Replicas = ptr.To[int32](3)
			return s
		}(), nil, []string{`is at least spec.replicas 3, so at its current size no pod of this StatefulSet runs on spot`}},
		{"unset spec.replicas is the API's 1", deployment("web", ann(config.AnnotationOnDemandBase, "1")), nil,
			[]string{`is at least spec.replicas 1`}},
		{"base below spec.replicas", func() client.Object {
			d := deployment("web", ann(config.AnnotationOnDemandBase, "3"))
			d.Spec.Replicas = ptr.To[int32](4)
			return d
		}(), nil, nil},
		{"base covers both: the maximum warning alone", func() client.Object {
			d := deployment("web", ann(config.AnnotationOnDemandBase, "5", config.AnnotationReplicas, "1..4"))
			d.Spec.Replicas = ptr.To[int32](2)
			return d
		}(), nil, []string{`is at least the replica maximum 4`}},
		{"no spec.replicas on a job", job("etl", ann(config.AnnotationOnDemandBase, "5")), nil, nil},
		{"default base over max is not the user's doing", deployment("web", ann(config.AnnotationClass, "critical", config.AnnotationReplicas, "1..1")), nil, nil},
		{"replicas on a job", job("etl", ann(config.AnnotationReplicas, "1..3")), nil,
			[]string{`trimtab.dev/replicas has no effect on a Job`}},
		{"metric on a cronjob", cronJob("n", ann(config.AnnotationMetric, "up", config.AnnotationTargetPerPod, "1")), nil,
			[]string{`trimtab.dev/metric has no effect on a CronJob`, `trimtab.dev/target-per-pod has no effect on a CronJob`}},
		{"policy on the pod template", tmpl, nil,
			[]string{`spec.template.metadata.annotations[trimtab.dev/class] is ignored`}},
		{"policy on a cronjob's pod template", func() client.Object {
			c := cronJob("n", nil)
			c.Spec.JobTemplate.Spec.Template.Annotations = ann(config.AnnotationMode, "enforce", config.AnnotationDecisionJSON, "{}")
			return c
		}(), nil, []string{`spec.jobTemplate.spec.template.metadata.annotations[trimtab.dev/mode] is ignored: trimtab reads policy from the CronJob's own`}},
		{"hpa while enforcing", deployment("web", ann(config.AnnotationMode, "enforce")),
			[]client.Object{hpa("web-hpa", "Deployment", "web"), hpa("api-hpa", "Deployment", "api")},
			[]string{`HorizontalPodAutoscaler shop/web-hpa already scales this Deployment`}},
		{"hpa on a statefulset while enforcing", statefulSet("db", ann(config.AnnotationMode, "enforce")),
			[]client.Object{hpa("db", "StatefulSet", "db"), hpa("web", "Deployment", "db")},
			[]string{`HorizontalPodAutoscaler shop/db already scales this StatefulSet`}},
		{"hpa in shadow mode is the point of shadow", deployment("web", ann(config.AnnotationMode, "shadow")),
			[]client.Object{hpa("web-hpa", "Deployment", "web")}, nil},
		{"requests keys while requests are off", deployment("web", ann(config.AnnotationRequestsPinned, "app", config.AnnotationResize, "off")), nil,
			[]string{`trimtab.dev/requests-pinned has no effect while trimtab.dev/requests is "off"`, `trimtab.dev/resize has no effect while`}},
		{"requests auto on a job", job("etl", ann(config.AnnotationRequests, "auto")), nil,
			[]string{`trimtab.dev/requests: "auto" has no effect on a Job`}},
		{"pinned container not in the template", func() client.Object {
			d := deployment("web", ann(config.AnnotationRequests, "auto", config.AnnotationRequestsPinned, "app,sidcar"))
			d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "app"}, {Name: "sidecar"}}
			return d
		}(), nil, []string{`trimtab.dev/requests-pinned names "sidcar", which is not a container of the pod template`}},
		{"hpa in another namespace", deployment("web", ann(config.AnnotationMode, "enforce")),
			[]client.Object{func() client.Object { h := hpa("web-hpa", "Deployment", "web"); h.Namespace = "other"; return h }()}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := newHandler(t, tt.hpas...).Handle(context.Background(), request(t, admissionv1.Create, tt.obj, nil))
			if !resp.Allowed {
				t.Fatalf("denied: %+v", resp.Result)
			}
			if len(resp.Warnings) != len(tt.want) {
				t.Fatalf("warnings = %q, want %d matching %q", resp.Warnings, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(resp.Warnings[i], w) {
					t.Fatalf("warning %d = %q, want it to contain %q", i, resp.Warnings[i], w)
				}
			}
		})
	}
}

func TestHPALookupFailureIsAWarning(t *testing.T) {
	s := testScheme(t)
	c := fake.NewClientBuilder().WithScheme(s).WithInterceptorFuncs(interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return errors.New("forbidden: cannot list horizontalpodautoscalers")
		},
	}).Build()
	h := NewWebhook(s, c, config.DefaultSettings())
	resp := h.Handle(context.Background(), request(t, admissionv1.Create, deployment("web", ann(config.AnnotationMode, "enforce")), nil))
	if !resp.Allowed || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "cannot list horizontalpodautoscalers") {
		t.Fatalf("allowed=%v warnings=%q, want allowed with the lookup error as a warning", resp.Allowed, resp.Warnings)
	}
}

func TestNilHPAReaderSkipsTheCheck(t *testing.T) {
	h := NewWebhook(testScheme(t), nil, config.DefaultSettings())
	resp := h.Handle(context.Background(), request(t, admissionv1.Create, deployment("web", ann(config.AnnotationMode, "enforce")), nil))
	if !resp.Allowed || len(resp.Warnings) != 0 {
		t.Fatalf("allowed=%v warnings=%q", resp.Allowed, resp.Warnings)
	}
}
