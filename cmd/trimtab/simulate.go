package main

import (
	"github.com/spf13/cobra"
)

// simulations are the `trimtab simulate` subcommands; each file that defines
// one appends its constructor here from an init function, so adding a replay
// touches only its own file.
var simulations []func() *cobra.Command

func newSimulateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Replay recorded traces through trimtab and its baselines, offline",
		Long: `simulate replays recorded traffic, usage or price traces through trimtab's
deciders (replicas, requests, spot placement), with the defaults the manager
uses, side by side with the baselines they replace (the HPA, the VPA,
always-spot, ...) and reports what each would have cost and risked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	for _, newSim := range simulations {
		cmd.AddCommand(newSim())
	}
	return cmd
}
