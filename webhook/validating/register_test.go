package validating

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/trimtab-dev/trimtab/config"
)

// TestRegisterServesAdmissionReviews registers the webhook on a real
// manager and posts AdmissionReview JSON to its webhook mux at Path, the
// same bytes the API server sends. The manager is not started: serving a
// review needs no API server unless mode is enforce (then the HPA lookup
// against the unstarted cache fails and becomes a warning).
func TestRegisterServesAdmissionReviews(t *testing.T) {
	mgr, err := ctrl.NewManager(&rest.Config{Host: "http://127.0.0.1:1"}, ctrl.Options{
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		t.Fatalf("creating manager: %v", err)
	}
	if err := Register(mgr, config.DefaultSettings()); err != nil {
		t.Fatalf("Register: %v", err)
	}
	srv := httptest.NewServer(mgr.GetWebhookServer().(*webhook.DefaultServer).WebhookMux())
	defer srv.Close()

	post := func(req admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		t.Helper()
		body, err := json.Marshal(admissionv1.AdmissionReview{
			TypeMeta: metav1TypeMeta(), Request: &req,
		})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(srv.URL+Path, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("POST %s: %v", Path, err)
		}
		defer resp.Body.Close()
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(resp.Body).Decode(&review); err != nil || review.Response == nil {
			t.Fatalf("decoding review (HTTP %d): %v", resp.StatusCode, err)
		}
		if review.Response.UID != req.UID {
			t.Fatalf("response UID %q, want %q", review.Response.UID, req.UID)
		}
		return review.Response
	}

	bad := request(t, admissionv1.Create, deployment("web", ann(config.AnnotationCapacity, "spto")), nil).AdmissionRequest
	r := post(bad)
	want := `Deployment.apps "web" is invalid: metadata.annotations[trimtab.dev/capacity]: Unsupported value: "spto": supported values: "auto", "spot", "on-demand"`
	if r.Allowed || r.Result.Message != want {
		t.Fatalf("bad policy: allowed=%v message %q\nwant denied with %q", r.Allowed, r.Result.Message, want)
	}

	good := request(t, admissionv1.Create, cronJob("nightly", ann(config.AnnotationClass, "batch")), nil).AdmissionRequest
	if r := post(good); !r.Allowed || len(r.Warnings) != 0 {
		t.Fatalf("good policy: allowed=%v warnings=%q", r.Allowed, r.Warnings)
	}

	enforce := request(t, admissionv1.Create, deployment("web", ann(config.AnnotationMode, "enforce")), nil).AdmissionRequest
	if r := post(enforce); !r.Allowed || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "could not check whether a HorizontalPodAutoscaler") {
		t.Fatalf("enforce without a running cache: allowed=%v warnings=%q", r.Allowed, r.Warnings)
	}
}

func TestRegisterRejectsBadSettings(t *testing.T) {
	mgr, err := ctrl.NewManager(&rest.Config{Host: "http://127.0.0.1:1"}, ctrl.Options{
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
	})
	if err != nil {
		t.Fatalf("creating manager: %v", err)
	}
	s := config.DefaultSettings()
	s.SpotValue = s.OnDemandValue
	if err := Register(mgr, s); err == nil || !strings.Contains(err.Error(), "must differ from spotValue") {
		t.Fatalf("Register with equal capacity values = %v, want a settings error", err)
	}
}

func metav1TypeMeta() metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}
}
