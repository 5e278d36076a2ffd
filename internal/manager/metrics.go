package manager

import (
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// metricsOptions serves /metrics on o.MetricsAddr. With o.MetricsSecure it
// serves HTTPS and lets a request through only when its bearer token passes
// a TokenReview and a SubjectAccessReview allows `get` on the non-resource
// URL /metrics (the chart's metrics-reader ClusterRole grants it): the
// metrics name every opted-in workload and namespace, and the Service
// publishes the port to the whole cluster network. The certificate is
// self-signed, generated at start (controller-runtime's default when no
// CertDir is given); scrapers authenticate the server by network path, the
// server authenticates them by token.
func metricsOptions(o Options) metricsserver.Options {
	m := metricsserver.Options{BindAddress: o.MetricsAddr}
	if o.MetricsSecure {
		m.SecureServing = true
		m.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	return m
}
