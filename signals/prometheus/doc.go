// Package prometheus is the live controller's only way to read Prometheus:
// an I/O package over client_golang's api/prometheus/v1 client, behind the
// narrow Reader interface (fake.Reader stands in for it in controller
// tests). Config says where Prometheus is: the address, a bearer-token file
// (re-read when it changes, as projected service-account tokens rotate) and
// a CA bundle.
//
// # What it reads
//
//   - Instant: a workload's trimtab.dev/metric and trimtab.dev/downstream
//     expressions, one number each, for every workload in one call.
//   - Range: the same expressions over the past week at one-minute steps,
//     the first time a workload is seen, to warm the forecaster.
//   - PodCPU: when a workload sets no metric, its load is its pods' CPU use
//     against their requests. PodCPU returns each pod's usage in cores; the
//     controller maps pods to workloads and divides by the requests it reads
//     from the pods, as the HPA does, and the HPA-compatible reactive path
//     gets per-pod samples (a pod left out is a missing metric to it).
//
// # The CPU series
//
// PodCPU reads container_cpu_usage_seconds_total{container!="",
// container!="POD", pod!=""}: the kubelet exports it both from cAdvisor
// (/metrics/cadvisor, which every Kubernetes Prometheus setup scrapes) and
// from its resource endpoint (/metrics/resource, which metrics-server and so
// the HPA read), with the same name and namespace/pod/container labels, so
// the query works whichever the cluster scrapes. container!="" drops
// cAdvisor's pod-level cgroup series, which would count each container
// twice; container!="POD" drops the pause container of dockershim-era
// kubelets. The rate per container is max'ed over duplicate scrapes (both
// endpoints, or two jobs) before the sum per pod, so a container counts once.
// Recording rules such as kube-prometheus'
// node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate
// would be cheaper but exist only where that rule set is installed.
//
// The rate window, Config.CPURateWindow, defaults to 2m: rate() needs two
// samples in its window and is steadier with four, and kube-prometheus
// scrapes cAdvisor every 30s (4 × 30s = 2m). A longer window is smoother and
// later; one under two scrape intervals gives no value at all. A pod younger
// than the window reads low, since rate() spreads its increase over the
// whole window; the HPA-compatible path's rules for pods in their CPU
// initialization period (5 min by default) cover the same start-up window. All namespaces of a call share one request, their names
// joined in a regular-expression matcher, grouped by namespace and pod.
//
// # Batching
//
// A sync asks thousands of workloads' expressions, and one HTTP request per
// expression would be thousands of requests a minute. Instant instead sends
// many expressions in one POST: each is tagged with a label,
// label_replace(EXPR, "__trimtab_q", "v<i>", "", ""), and the tagged
// expressions are joined with `or` in a balanced tree ((a or b) or (c or
// d)); the answer's series are sorted back by tag. Adding one constant label
// keeps an expression's series distinct, and distinct tags mean `or` drops
// nothing, so an expression that works alone works in a batch. A batch holds
// at most Config.MaxBatch expressions (50) and Config.MaxBatchBytes of body
// (256 KiB); identical expressions are sent once. Measured against
// Prometheus 2.42 on loopback (docs/signals.md): a sync of 1,000 workloads
// in 20 requests instead of 1,000, 10,000 in 200 instead of 10,000, 3-7×
// faster. Prometheus' time per expression grows with the batch (0.3 ms in
// batches of 50, 3.3 ms in batches of 500), so larger batches save requests
// but cost Prometheus more than they save.
//
// Each expression is first parsed with Prometheus' own parser
// (signals/promql): one that does not parse, a range vector or a string is
// reported without being sent; a scalar is sent as vector(EXPR), since
// label_replace takes only vectors; and its selectors under a range are
// collected for the freshness check below.
//
// Limits of the trick: one expression Prometheus fails to evaluate
// (many-to-many matching, too many samples) fails its whole batch. The batch
// is then bisected, each half sent on its own, recursively, so the bad
// expression fails alone at the cost of about 2·log2(n) more requests (15
// for one bad expression among 200). An outage (connection refused,
// timeout, 5xx, a rejected token) is not bisected: every expression of the
// batch reports ErrUnavailable. A slow expression slows its batch, and the
// batch shares Prometheus' query timeout and sample limit
// (--query.max-samples).
//
// Range does not batch by default (Config.MaxRangeBatch 1): Prometheus
// evaluates label_replace and `or` at every step, and a week of one-minute
// steps for 50 workloads took two to four times longer as 2 batched requests
// than as 50 plain ones. A week at one minute is 10,081 points, under
// Prometheus' 11,000 points per series, so it is one request per workload;
// finer steps are cut into chunks under that limit.
//
// # Outages and bad input
//
// Every failure is per expression and wraps one sentinel, so the
// controller holds the last decision and says why: ErrUnavailable (an
// outage), ErrEmpty (no series now), ErrStale (stale samples, below),
// ErrNotFinite (NaN, ±Inf), ErrManySeries (a vector of several series where
// one number is expected) and ErrBadExpression (with the parser's or
// Prometheus' message). Errors name the expression.
//
// Staleness: Prometheus marks a series stale when its target or the series
// disappears, and a stale series leaves instant results at once, so a plain
// selector over a dead target gives ErrEmpty by itself. A range does not: a
// rate(x[5m]) keeps a value from the samples in its window for up to 5
// minutes. So for each distinct selector under a range, the same request
// asks max(timestamp(SELECTOR)), the newest raw sample; when it is missing
// or older than Config.MaxSampleAge (2m), the result is ErrStale. The probes
// double the selectors Prometheus evaluates (a sync of 10,000 rate
// expressions took 7.7 s with them, 4.2 s without); MaxSampleAge < 0 turns
// them off.
package prometheus
