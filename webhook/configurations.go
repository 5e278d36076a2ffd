package webhook

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/webhook/mutating"
	"github.com/trimtab-dev/trimtab/webhook/validating"
)

// Names of the webhooks inside the configurations.
const (
	PodWebhookName      = "pods.trimtab.dev"
	WorkloadWebhookName = "workloads.trimtab.dev"
)

// DefaultTimeoutSeconds is the admission timeout: pod creation must never
// wait on trimtab for long (failurePolicy is Ignore). A frozen manager costs
// every create in opted-in namespaces the whole timeout (the apiserver does
// not retry a call that timed out), and a ReplicaSet scaling out creates in
// serial slow-start batches, so a scale to 20 pays it ~5 times. Measured by
// TestManagerFaults (SIGSTOP for 10 s under 20 pods/s, load ~28 on 2 cores),
// p50 added while frozen: 0.92 s at 1 s, 1.94 s at 2 s, 4.78 s at 5 s. 1 s
// leaves too little room for a healthy but busy manager (healthy creates
// took up to 1.1 s end to end there); 2 s never timed out a healthy
// admission in those runs. The price over 5 s: after the freeze ends, pods
// that queued meanwhile fail open (27 of 100 at 2 s, 0 at 5 s), which the
// drift detection reports.
const DefaultTimeoutSeconds = 2

// ClientConfig says how the apiserver reaches a webhook path: by Service in
// a real cluster (the Helm chart), or by URL for a manager running outside it.
type ClientConfig func(path string) admissionregistrationv1.WebhookClientConfig

// URLClientConfig reaches the webhook server at baseURL (e.g.
// https://127.0.0.1:9443) and trusts caBundle.
func URLClientConfig(baseURL string, caBundle []byte) ClientConfig {
	return func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{URL: ptr.To(baseURL + path), CABundle: caBundle}
	}
}

// Configurations returns trimtab's webhook configurations, both named name.
// The Helm chart renders the same rules; TestChartMatchesConfigurations-style
// checks keep them in step.
//
// Both select only namespaces labelled config.NamespaceLabel=true and never
// the excluded ones. The pod webhook also skips pods labelled
// trimtab.dev/enabled=false, so a single pod can opt out. Both fail open
// (failurePolicy Ignore): trimtab must never stop a pod or a rollout.
func Configurations(name string, s config.Settings, cc ClientConfig, timeoutSeconds int32) (*admissionregistrationv1.MutatingWebhookConfiguration, *admissionregistrationv1.ValidatingWebhookConfiguration) {
	nsSelector := &metav1.LabelSelector{
		MatchLabels: map[string]string{config.NamespaceLabel: config.NamespaceLabelValue},
	}
	if len(s.ExcludedNamespaces) > 0 {
		nsSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{
			Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: s.ExcludedNamespaces,
		}}
	}
	podOptOut := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: config.NamespaceLabel, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"false"},
	}}}
	ignore := ptr.To(admissionregistrationv1.Ignore)
	none := ptr.To(admissionregistrationv1.SideEffectClassNone)
	equivalent := ptr.To(admissionregistrationv1.Equivalent)

	mutatingCfg := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    PodWebhookName,
			ClientConfig:            cc(mutating.Path),
			Rules:                   []admissionregistrationv1.RuleWithOperations{rule([]string{""}, []string{"v1"}, []string{"pods"}, admissionregistrationv1.Create)},
			FailurePolicy:           ignore,
			MatchPolicy:             equivalent,
			NamespaceSelector:       nsSelector,
			ObjectSelector:          podOptOut,
			SideEffects:             none,
			TimeoutSeconds:          ptr.To(timeoutSeconds),
			AdmissionReviewVersions: []string{"v1"},
			ReinvocationPolicy:      ptr.To(admissionregistrationv1.NeverReinvocationPolicy),
		}},
	}
	validatingCfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         WorkloadWebhookName,
			ClientConfig: cc(validating.Path),
			Rules: []admissionregistrationv1.RuleWithOperations{
				rule([]string{"apps"}, []string{"v1"}, []string{"deployments", "statefulsets"}, admissionregistrationv1.Create, admissionregistrationv1.Update),
				rule([]string{"batch"}, []string{"v1"}, []string{"jobs", "cronjobs"}, admissionregistrationv1.Create, admissionregistrationv1.Update),
			},
			FailurePolicy:           ignore,
			MatchPolicy:             equivalent,
			NamespaceSelector:       nsSelector,
			SideEffects:             none,
			TimeoutSeconds:          ptr.To(timeoutSeconds),
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	return mutatingCfg, validatingCfg
}

func rule(groups, versions, resources []string, ops ...admissionregistrationv1.OperationType) admissionregistrationv1.RuleWithOperations {
	return admissionregistrationv1.RuleWithOperations{
		Operations: ops,
		Rule: admissionregistrationv1.Rule{
			APIGroups: groups, APIVersions: versions, Resources: resources,
			Scope: ptr.To(admissionregistrationv1.NamespacedScope),
		},
	}
}
