package main

import (
	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree. Subcommands live one per file.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "trimtab",
		Short: "Cost-aware Kubernetes autoscaling, decided at pod admission",
		Long: `trimtab runs in the cluster as "trimtab manager": its admission webhooks
place pods on spot or on-demand capacity as they are created (an on-demand base
per workload, each decision explained on the pod) and validate the policy
annotations that steer it, and its decision controller forecasts each opted-in
workload's load from Prometheus, records its replica decision on a Decision
resource and, in enforce mode, scales the workload.

"trimtab simulate" replays recorded traces through the same deciders offline,
beside the HPA, the VPA and simple baselines.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newManagerCmd(), newSimulateCmd(), newVersionCmd())
	return root
}
