// Command trimtab is the single trimtab binary: `trimtab manager` runs the
// in-cluster manager (admission webhooks, decider, placer), `trimtab simulate`
// replays recorded traces offline, and `trimtab version` says which build this is.
package main

import (
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
)

func main() {
	// SetupSignalHandler cancels the context on SIGTERM/SIGINT so the manager
	// and long simulations shut down cleanly.
	if err := newRootCmd().ExecuteContext(ctrl.SetupSignalHandler()); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
