package main

import (
	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree. Subcommands live one per file.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "trimtab",
		Short: "Cost-aware Kubernetes autoscaling, decided at pod admission",
		Long: `trimtab computes replica and request targets, stamps them and a spot/on-demand
placement onto pods as they are admitted, and moves batch pods off spot
capacity ahead of predicted price spikes.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newManagerCmd(), newSimulateCmd(), newVersionCmd())
	return root
}
