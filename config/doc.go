// Package config is the one source of truth for everything a user configures
// in trimtab: the namespace opt-in label, the workload policy annotations
// (parsing, defaults and validation with messages that name the key, the bad
// value and the accepted form), and the operator's own settings. The webhook,
// the decider and the placer all read policy through this package, so a key
// means the same thing everywhere; docs/policy.md is its user-facing
// reference.
//
// ParsePolicy turns a workload's annotations into a Policy in one pass and
// reports every problem together as a field.ErrorList; Policy.Annotations is
// its inverse (the canonical form), and FuzzParsePolicy holds the two to a
// round trip. The API types of trimtab's own resources will live here too.
package config
