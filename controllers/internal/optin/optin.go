// Package optin lists what the controllers act on: the Deployments and
// StatefulSets of namespaces opted in with trimtab's label, less the
// excluded and terminating ones. The decision and requests controllers
// both read it, so they agree on which workloads are trimtab's. Batch lists
// the Jobs and CronJobs, whose Decisions carry a capacity only.
package optin

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/config"
)

// Workload is one opted-in Deployment or StatefulSet, with the fields the
// controllers read from either kind.
type Workload struct {
	Object   client.Object
	Kind     string // "Deployment" or "StatefulSet"
	Replicas *int32 // spec.replicas
	Ready    int32  // status.readyReplicas
	Selector *metav1.LabelSelector
	Template *corev1.PodTemplateSpec
}

// List reads the opted-in workloads through r. narrow, when not nil,
// narrows the opted-in namespaces further by their labels.
func List(ctx context.Context, r client.Reader, s config.Settings, narrow labels.Selector) ([]Workload, error) {
	nss, err := namespaces(ctx, r, s, narrow)
	if err != nil {
		return nil, err
	}
	var out []Workload
	for _, ns := range nss {
		var deps appsv1.DeploymentList
		if err := r.List(ctx, &deps, client.InNamespace(ns.Name)); err != nil {
			return nil, fmt.Errorf("listing Deployments in %s: %w", ns.Name, err)
		}
		for i := range deps.Items {
			d := &deps.Items[i]
			out = append(out, Workload{d, "Deployment", d.Spec.Replicas, d.Status.ReadyReplicas, d.Spec.Selector, &d.Spec.Template})
		}
		var sts appsv1.StatefulSetList
		if err := r.List(ctx, &sts, client.InNamespace(ns.Name)); err != nil {
			return nil, fmt.Errorf("listing StatefulSets in %s: %w", ns.Name, err)
		}
		for i := range sts.Items {
			st := &sts.Items[i]
			out = append(out, Workload{st, "StatefulSet", st.Spec.Replicas, st.Status.ReadyReplicas, st.Spec.Selector, &st.Spec.Template})
		}
	}
	return out, nil
}

// namespaces are the opted-in namespaces, less the excluded and terminating
// ones and those narrow (when not nil) does not match.
func namespaces(ctx context.Context, r client.Reader, s config.Settings, narrow labels.Selector) ([]corev1.Namespace, error) {
	var nss corev1.NamespaceList
	if err := r.List(ctx, &nss, client.MatchingLabels{config.NamespaceLabel: config.NamespaceLabelValue}); err != nil {
		return nil, fmt.Errorf("listing opted-in namespaces: %w", err)
	}
	var out []corev1.Namespace
	for _, ns := range nss.Items {
		if s.Excluded(ns.Name) || ns.DeletionTimestamp != nil || (narrow != nil && !narrow.Matches(labels.Set(ns.Labels))) {
			continue
		}
		out = append(out, ns)
	}
	return out, nil
}
