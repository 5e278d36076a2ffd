// Package simulate is the roof over trimtab's offline replays, one package
// per `trimtab simulate` subcommand: replicasim (traffic → replicas, beside
// the HPA), requestsim (container usage → requests, beside the VPA) and
// pricesim (spot price history → placement, beside always-spot and a
// reactive mover). Each replays a recorded trace through the same deciders
// and defaults the live manager runs, so a replay's figures describe what
// the cluster would have done.
package simulate
