package main

import (
	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree. Subcommands live one per file.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "trimtab",
		Short: "Cost-aware Kubernetes autoscaling, decided at pod admission",
		Long: `trimtab places pods on spot or on-demand capacity as they are admitted (an
on-demand base per workload, the rest on spot, each decision explained on the
pod) and validates the policy annotations that steer it: "trimtab manager".

Its replica, request and spot-price deciders run offline so far, replaying
recorded traces beside the HPA, the VPA and simple baselines: "trimtab
simulate".`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newManagerCmd(), newSimulateCmd(), newVersionCmd())
	return root
}
