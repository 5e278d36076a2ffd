// Package config is the one source of truth for everything a user configures
// in trimtab: the namespace opt-in label, the workload policy annotations
// (parsing, defaults and validation with messages that name the key, the bad
// value and the accepted form), the manager's own settings, and the API types
// of trimtab's resources. The webhook, the decider and the placer all read
// policy through this package, so a key means the same thing everywhere.
package config
