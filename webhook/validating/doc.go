// Package validating is trimtab's validating admission webhook for workloads:
// Deployments, StatefulSets, Jobs and CronJobs on CREATE and UPDATE.
//
// It has one job: reject a workload whose trimtab.dev/* policy annotations
// config.ParsePolicy refuses, or whose PromQL annotations Prometheus' own
// parser refuses (signals/promql; config cannot import it and stay pure),
// with an Invalid status whose causes are exactly those field errors (key,
// bad value, accepted form). It never rejects for
// any other reason: an object it cannot decode, a kind it does not know, an
// excluded namespace, a failed HPA lookup, or an UPDATE that leaves already
// invalid annotations unchanged (validation ratcheting, as the API server
// does for its own fields) are all admitted, with a warning where the user
// should know. Risky but valid combinations, such as an HPA scaling the same
// workload while trimtab enforces, are admitted with admission warnings,
// which kubectl prints.
//
// Each concern is a small function (see warnings.go); Validator runs them
// for one kind, and NewWebhook serves all four kinds on one path, Path.
// Register wires it into a controller-runtime manager.
package validating
