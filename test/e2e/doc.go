// Package e2e holds trimtab's end-to-end tests. They run against the local
// control plane (package test/cluster): a real kube-apiserver, scheduler and
// controller-manager with kwok nodes, started on first use and shared by every
// test in the run.
package e2e
