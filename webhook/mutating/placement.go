package mutating

import (
	"context"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// SplitSource gives a workload's capacity split: how many of its pods run
// on on-demand and where the rest go. The webhook counts the workload's
// pods with the Ledger and asks the split where the next one goes; it never
// decides capacity itself.
type SplitSource interface {
	Split(ctx context.Context, w Workload, in config.Inputs) (capacity.Split, error)
}

// PolicySplits derives the split from the workload's policy alone, with no
// price outlook: decider/capacity's rule for a market nobody has assessed.
// The Decision resource will carry a split that also follows the spot
// forecast; until then this is the whole answer.
type PolicySplits struct{}

// Split implements SplitSource.
func (PolicySplits) Split(_ context.Context, _ Workload, in config.Inputs) (capacity.Split, error) {
	return capacity.Decide(in.Capacity, capacity.Outlook{})
}
