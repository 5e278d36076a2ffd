// Package cluster runs a real, local Kubernetes control plane for trimtab's
// tests and demo: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler built from their Go modules (see tools/build.sh), and kwok
// simulating nodes and the pod lifecycle. Everything listens on 127.0.0.1.
//
// Deployments get real ReplicaSets, the real scheduler places their pods on a
// realistic node set (two zones × spot/on-demand × two instance types, labelled
// like Karpenter-managed nodes), and kwok marks them Running. Admission
// webhooks, the Eviction API, PodDisruptionBudgets and RBAC are the real code.
//
// State lives in a directory (by default .cluster/ at the repository root):
// the generated PKI, the admin kubeconfig, etcd's data, one log per process
// and state.json recording the PIDs this package started. Down stops exactly
// those PIDs. Up reuses a healthy cluster recorded there, so `make cluster-up`
// and every test package share one control plane.
//
// kwok also emulates container CPU and memory usage (from the
// kwok.x-k8s.io/usage-cpu and usage-memory pod annotations) and serves it as
// kubelet's resource metrics per node (Config.KwokUsage).
//
// Add-ons run beside the core on request and are recorded apart from it, so
// the core's health never depends on them: cert-manager's controller and
// cainjector (StartCertManager; built from cert-manager's module, without its
// own webhook), Debian's Prometheus (StartPrometheus; it scrapes kwok's usage,
// and BackfillPrometheus imports history into it) and prometheus-adapter
// (StartPrometheusAdapter; the custom, external and resource metrics APIs
// through the apiserver's aggregation layer, which the HPA controller reads).
// `make cluster-up` starts cert-manager and Prometheus; Down stops every
// add-on by PID like the rest.
package cluster
