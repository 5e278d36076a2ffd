package requests

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/trimtab-dev/trimtab/controllers/internal/optin"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
)

// workloadKey names a workload.
type workloadKey struct {
	Namespace, Kind, Name string
}

func (k workloadKey) String() string { return k.Namespace + "/" + k.Kind + "/" + k.Name }

// workload is one Deployment or StatefulSet as a sync sees it.
type workload struct {
	key      workloadKey
	obj      client.Object
	policy   config.Policy
	inputs   config.Inputs
	valid    bool
	selector labels.Selector
	// template is the pod template's containers: what is learned, and the
	// requests held until a model has MinHistory.
	template []corev1.Container
	// pods are the workload's pods, from the live list.
	pods     []*corev1.Pod
	decision *v1alpha1.Decision
	// pattern matches the names of the workload's pods, past and present,
	// as its controller generates them.
	pattern *regexp.Regexp
	podsRE  string
}

// auto reports whether trimtab learns this workload's requests.
func (w *workload) auto() bool { return w.valid && w.inputs.Requests.Auto }

// listWorkloads lists the Deployments and StatefulSets of opted-in
// namespaces, with their policies.
func (c *Controller) listWorkloads(ctx context.Context) ([]*workload, error) {
	listed, err := optin.List(ctx, c.Client, c.Settings, c.Namespaces)
	if err != nil {
		return nil, err
	}
	out := make([]*workload, 0, len(listed))
	for _, o := range listed {
		out = append(out, newWorkload(o.Object, o.Kind, o.Selector, o.Template))
	}
	return out, nil
}

func newWorkload(obj client.Object, kind string, sel *metav1.LabelSelector, tpl *corev1.PodTemplateSpec) *workload {
	w := &workload{key: workloadKey{Namespace: obj.GetNamespace(), Kind: kind, Name: obj.GetName()}, obj: obj, template: tpl.Spec.Containers}
	if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && sel != nil {
		w.selector = s
	}
	p, errs := config.ParsePolicy(obj.GetAnnotations())
	if len(errs) > 0 {
		return w // the replica controller reports it (InvalidPolicy)
	}
	in, err := p.Inputs()
	if err != nil {
		return w
	}
	w.policy, w.inputs, w.valid = p, in, true
	w.podsRE = podNamePattern(kind, w.key.Name)
	w.pattern = regexp.MustCompile("^(?:" + w.podsRE + ")$")
	return w
}

// maxGeneratedBase is how much of a generateName the apiserver keeps
// before the 5 random characters it appends (names.SimpleNameGenerator:
// 63 - 5).
const maxGeneratedBase = 58

// podNamePattern is a regular expression of the names a workload's
// controller gives its pods, so that the usage of pods long gone (a warm
// start reads 8 days) is found by name: a Deployment's pods are
// NAME-HASH-XXXXX (its ReplicaSet is NAME-HASH, the hash at most 10
// characters), a StatefulSet's NAME-ORDINAL. A Deployment whose name is so
// long that the apiserver cuts the generated names is matched on the part
// kept.
func podNamePattern(kind, name string) string {
	q := regexp.QuoteMeta(name)
	if kind == "StatefulSet" {
		return q + "-[0-9]+"
	}
	if len(name)+1+10+1 <= maxGeneratedBase {
		return q + "-[a-z0-9]{1,10}-[a-z0-9]{5}"
	}
	return regexp.QuoteMeta(name[:min(len(name), maxGeneratedBase)]) + "[-a-z0-9]*"
}

// listDecisions indexes Decisions by the workload they are for.
func (c *Controller) listDecisions(ctx context.Context) (map[workloadKey]*v1alpha1.Decision, error) {
	var list v1alpha1.DecisionList
	if err := c.Client.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("listing Decisions: %w", err)
	}
	out := make(map[workloadKey]*v1alpha1.Decision, len(list.Items))
	for i := range list.Items {
		d := &list.Items[i]
		out[workloadKey{Namespace: d.Namespace, Kind: d.Spec.WorkloadRef.Kind, Name: d.Spec.WorkloadRef.Name}] = d
	}
	return out, nil
}

// createDecision creates the workload's Decision, named and owned as the
// replica controller names and owns it; when the name is taken by this
// workload's own Decision (created meanwhile), that one is used.
func (c *Controller) createDecision(ctx context.Context, w *workload) (*v1alpha1.Decision, error) {
	gv := "apps/v1"
	for _, name := range []string{w.key.Name, w.key.Name + "-" + strings.ToLower(w.key.Kind)} {
		d := &v1alpha1.Decision{
			ObjectMeta: metav1.ObjectMeta{Namespace: w.key.Namespace, Name: name,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: gv, Kind: w.key.Kind, Name: w.obj.GetName(), UID: w.obj.GetUID()}}},
			Spec: v1alpha1.DecisionSpec{WorkloadRef: v1alpha1.WorkloadReference{APIVersion: gv, Kind: w.key.Kind, Name: w.key.Name}},
		}
		err := c.Client.Create(ctx, d)
		if apierrors.IsAlreadyExists(err) {
			var got v1alpha1.Decision
			if err := c.reader().Get(ctx, types.NamespacedName{Namespace: w.key.Namespace, Name: name}, &got); err == nil &&
				got.Spec.WorkloadRef.Kind == w.key.Kind && got.Spec.WorkloadRef.Name == w.key.Name {
				return &got, nil
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("creating its Decision: %w", err)
		}
		return d, nil
	}
	return nil, fmt.Errorf("creating its Decision: %s and %s-%s are taken", w.key.Name, w.key.Name, strings.ToLower(w.key.Kind))
}

// listPods reads the pods of the namespaces that hold auto workloads, past
// the cache, and gives each workload its own: a Deployment's through their
// ReplicaSet (named NAME-<pod-template-hash>), a StatefulSet's through the
// controller reference.
func (c *Controller) listPods(ctx context.Context, ws []*workload) error {
	byNS := map[string][]*workload{}
	for _, w := range ws {
		byNS[w.key.Namespace] = append(byNS[w.key.Namespace], w)
	}
	for ns, list := range byNS {
		var pods corev1.PodList
		if err := c.reader().List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("listing pods in %s: %w", ns, err)
		}
		owners := map[workloadKey]*workload{}
		for _, w := range list {
			owners[w.key] = w
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			if w := owners[ownerOf(p)]; w != nil {
				w.pods = append(w.pods, p)
			}
		}
	}
	return nil
}

// ownerOf is the workload that controls p, by its controller reference.
func ownerOf(p *corev1.Pod) workloadKey {
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return workloadKey{}
	}
	switch ref.Kind {
	case "StatefulSet":
		return workloadKey{Namespace: p.Namespace, Kind: "StatefulSet", Name: ref.Name}
	case "ReplicaSet":
		hash := p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		if name, ok := strings.CutSuffix(ref.Name, "-"+hash); ok && hash != "" {
			return workloadKey{Namespace: p.Namespace, Kind: "Deployment", Name: name}
		}
	}
	return workloadKey{}
}

// clear removes status.requests from a workload whose requests went back
// to off: the webhook then stamps nothing.
func (c *Controller) clear(ctx context.Context, d *v1alpha1.Decision) error {
	patch := client.MergeFrom(d.DeepCopy())
	d.Status.Requests = nil
	if err := c.Client.Status().Patch(ctx, d, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("clearing status.requests of Decision %s/%s: %w", d.Namespace, d.Name, err)
	}
	return nil
}
