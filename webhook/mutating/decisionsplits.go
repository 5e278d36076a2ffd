package mutating

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// DecisionSplits reads the split from the workload's Decision
// (status.capacity, written by the decision controller), so a batch pod
// created while the placer predicts a spike on its markets goes to
// on-demand at once, with the Decision's reason in words. Only workloads
// whose split may follow the spot outlook read it — batch class (Evictable)
// with capacity auto — and only while the Decision's base is the policy's
// (a policy edited since the Decision was written is followed at once);
// every other workload, and a workload without a Decision or capacity yet,
// gets PolicySplits' answer.
type DecisionSplits struct{ Reader client.Reader }

// Split implements SplitSource.
func (s DecisionSplits) Split(ctx context.Context, w Workload, in config.Inputs) (capacity.Split, error) {
	if !in.Evictable || in.Capacity.Pin != "" {
		return PolicySplits{}.Split(ctx, w, in)
	}
	cs, err := s.capacity(ctx, w.Key)
	if err != nil {
		return capacity.Split{}, err
	}
	if cs == nil || cs.OnDemandBase != in.Capacity.OnDemandBase {
		return PolicySplits{}.Split(ctx, w, in)
	}
	rest := capacity.Type(cs.Rest)
	if rest != capacity.Spot && rest != capacity.OnDemand {
		return capacity.Split{}, fmt.Errorf("the Decision of %s has status.capacity.rest %q: want %q or %q", w.Key, cs.Rest, capacity.Spot, capacity.OnDemand)
	}
	return capacity.Split{OnDemandBase: cs.OnDemandBase, Rest: rest, RestRequired: cs.RestRequired, Reason: cs.Reason}, nil
}

// capacity finds the workload's Decision by the names the decision
// controller gives it (the workload's name, else NAME-kind).
func (s DecisionSplits) capacity(ctx context.Context, w WorkloadKey) (*v1alpha1.CapacityStatus, error) {
	for _, name := range []string{w.Name, w.Name + "-" + strings.ToLower(w.Kind)} {
		var d v1alpha1.Decision
		err := s.Reader.Get(ctx, types.NamespacedName{Namespace: w.Namespace, Name: name}, &d)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the Decision of %s: %w", w, err)
		}
		if d.Spec.WorkloadRef.Kind == w.Kind && d.Spec.WorkloadRef.Name == w.Name {
			return d.Status.Capacity, nil
		}
	}
	return nil, nil
}

// WithSplits makes the pod mutator read each workload's split from src.
func WithSplits(src SplitSource) SetupOption {
	return func(h *Handler) { h.Splits = src }
}
