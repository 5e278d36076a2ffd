package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"
)

const prometheusName = "prometheus"

// StartPrometheus runs Debian's Prometheus on 127.0.0.1:Config.PrometheusPort,
// scraping its targets every second, with its storage under the cluster
// directory, and returns its base URL once it is ready. Targets are URLs
// ("http://127.0.0.1:8080/metrics") or host:port (http, /metrics); they must
// be on loopback. https targets are scraped with the cluster's admin client
// certificate and without verifying the server (loopback processes this
// package started), so the apiserver's /metrics works too. Each target is its
// own job, named host:port/path (ScrapeLabels). With Config.KwokUsage it also
// scrapes kwok's emulated kubelet resource metrics of every node (job
// kwok-nodes, label node; see prometheusConfig).
//
// There is one Prometheus per cluster, shared by every caller (test packages
// run in parallel): scrapeTargets are added to those it already scrapes, never
// replace them. A running Prometheus that already scrapes them is reused; one
// that lacks some is reloaded with the new configuration (SIGHUP, it keeps
// serving); a dead one is restarted (its data stays). Down stops it. Expect
// the first sample of a new target ~5 s later: Prometheus applies target
// changes at most every 5 s.
func (cl *Cluster) StartPrometheus(ctx context.Context, scrapeTargets []string) (string, error) {
	c := cl.Config
	if _, err := os.Stat(c.PrometheusBin); err != nil {
		return "", fmt.Errorf("prometheus is not installed (%s missing); run `bash test/cluster/tools/apt.sh prometheus`", c.PrometheusBin)
	}
	add, err := normalizeTargets(scrapeTargets)
	if err != nil {
		return "", err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(c.PrometheusPort)
	ready := func(ctx context.Context) error { return httpGetOK(ctx, http.DefaultClient, base+"/-/ready") }
	pk := pki{c.path("pki")}
	kwokDiscovery := ""
	if c.KwokUsage {
		kwokDiscovery = "http://127.0.0.1:" + strconv.Itoa(c.KwokPort) + "/discovery/prometheus"
	}
	err = cl.withState(func(st *Cluster) error {
		dir := c.path("prometheus")
		confFile, targetsFile := filepath.Join(dir, "prometheus.yml"), filepath.Join(dir, "targets")
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
			return err
		}
		var old []string
		if b, err := os.ReadFile(targetsFile); err == nil {
			old = strings.Fields(string(b))
		}
		all, err := normalizeTargets(append(old, add...))
		if err != nil {
			return fmt.Errorf("targets recorded in %s: %w", targetsFile, err)
		}
		conf, err := prometheusConfig(all, pk.file("admin.crt"), pk.file("admin.key"), kwokDiscovery)
		if err != nil {
			return err
		}
		oldConf, _ := os.ReadFile(confFile)
		if err := writeFiles(map[string][]byte{confFile: conf, targetsFile: []byte(strings.Join(all, "\n") + "\n")}); err != nil {
			return err
		}
		if p, ok := st.addon(prometheusName); ok && ready(ctx) == nil {
			if bytes.Equal(oldConf, conf) {
				return nil
			}
			return reloadPrometheus(ctx, base, p)
		}
		if err := st.stopAddon(prometheusName); err != nil {
			return err
		}
		p, err := startProcess(prometheusName, c.PrometheusBin, c.path("logs"),
			"--config.file="+confFile,
			"--storage.tsdb.path="+filepath.Join(dir, "data"),
			// Time retention counts back from the newest block, and
			// BackfillPrometheus writes a week of history.
			"--storage.tsdb.retention.time=30d",
			"--web.listen-address=127.0.0.1:"+strconv.Itoa(c.PrometheusPort))
		if err != nil {
			return err
		}
		st.setAddon(p)
		return st.waitFor(ctx, p, 30*time.Second, ready)
	})
	if err != nil {
		return "", fmt.Errorf("starting prometheus: %w", err)
	}
	return base, nil
}

func writeFiles(files map[string][]byte) error {
	for name, b := range files {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// reloadPrometheus sends p SIGHUP and waits until Prometheus reports a
// successful configuration reload newer than the one before.
func reloadPrometheus(ctx context.Context, base string, p Process) error {
	before, _, err := reloadStatus(ctx, base)
	if err != nil {
		return err
	}
	if err := syscall.Kill(p.PID, syscall.SIGHUP); err != nil {
		return fmt.Errorf("signalling prometheus (pid %d) to reload: %w", p.PID, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		at, ok, err := reloadStatus(ctx, base)
		if err == nil && at > before {
			if !ok {
				return fmt.Errorf("prometheus rejected its new configuration; see %s", p.Log)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("prometheus did not reload within 30s (last error: %v; log %s)", err, p.Log)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// reloadStatus reads prometheus_config_last_reload_success_timestamp_seconds
// and prometheus_config_last_reload_successful from Prometheus's own /metrics.
func reloadStatus(ctx context.Context, base string) (at float64, ok bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false, err
	}
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		switch f[0] {
		case "prometheus_config_last_reload_success_timestamp_seconds":
			at, err = strconv.ParseFloat(f[1], 64)
			found = err == nil
		case "prometheus_config_last_reload_successful":
			ok = f[1] == "1"
		}
	}
	if !found {
		return 0, false, fmt.Errorf("no reload timestamp in %s/metrics", base)
	}
	return at, ok, nil
}

// scrapeConfig is the part of Prometheus's scrape_config we write.
type scrapeConfig struct {
	JobName        string          `json:"job_name"`
	Scheme         string          `json:"scheme,omitempty"`
	MetricsPath    string          `json:"metrics_path,omitempty"`
	TLSConfig      *tlsConfig      `json:"tls_config,omitempty"`
	StaticConfigs  []staticConfig  `json:"static_configs,omitempty"`
	HTTPSDConfigs  []httpSDConfig  `json:"http_sd_configs,omitempty"`
	RelabelConfigs []relabelConfig `json:"relabel_configs,omitempty"`
	ScrapeInterval string          `json:"scrape_interval"`
	ScrapeTimeout  string          `json:"scrape_timeout"`
}

type httpSDConfig struct {
	URL             string `json:"url"`
	RefreshInterval string `json:"refresh_interval"`
}

type relabelConfig struct {
	SourceLabels []string `json:"source_labels"`
	Regex        string   `json:"regex"`
	TargetLabel  string   `json:"target_label"`
	Replacement  string   `json:"replacement"`
}

type tlsConfig struct {
	CertFile           string `json:"cert_file"`
	KeyFile            string `json:"key_file"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify"`
}

type staticConfig struct {
	Targets []string `json:"targets"`
}

// normalizeTargets parses targets and returns them as sorted, unique URLs.
func normalizeTargets(targets []string) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	for i, t := range targets {
		u, err := parseScrapeTarget(t)
		if err != nil {
			return nil, fmt.Errorf("scrape target %d (%q): %w", i, t, err)
		}
		if s := u.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out, nil
}

// kwokNodesJob is the job that scrapes kwok's per-node resource metrics.
const kwokNodesJob = "kwok-nodes"

// prometheusConfig renders prometheus.yml for normalized targets: one job
// per target, named host:port/path, scraped every second. A non-empty
// kwokDiscovery (kwok's /discovery/prometheus URL) adds the job kwok-nodes:
// one target per node and Metric path, found through kwok's HTTP service
// discovery (so nodes added later are scraped too), each labelled node=NAME
// from its path. Without that label the targets' series would differ only
// in their scrape path, which no series keeps: every node's
// node_cpu_usage_seconds_total would be one series written by all of them.
func prometheusConfig(targets []string, certFile, keyFile, kwokDiscovery string) ([]byte, error) {
	jobs := make([]scrapeConfig, 0, len(targets)+1)
	if kwokDiscovery != "" {
		jobs = append(jobs, scrapeConfig{
			JobName:       kwokNodesJob,
			HTTPSDConfigs: []httpSDConfig{{URL: kwokDiscovery, RefreshInterval: "5s"}},
			RelabelConfigs: []relabelConfig{{
				SourceLabels: []string{"__metrics_path__"}, Regex: "/metrics/nodes/([^/]+)/.*",
				TargetLabel: "node", Replacement: "$1",
			}},
			ScrapeInterval: "1s", ScrapeTimeout: "1s",
		})
	}
	for _, t := range targets {
		u, err := parseScrapeTarget(t)
		if err != nil {
			return nil, fmt.Errorf("scrape target %q: %w", t, err)
		}
		job := scrapeConfig{
			JobName: u.Host + u.Path, Scheme: u.Scheme, MetricsPath: u.Path,
			StaticConfigs:  []staticConfig{{Targets: []string{u.Host}}},
			ScrapeInterval: "1s", ScrapeTimeout: "1s",
		}
		if u.Scheme == "https" {
			job.TLSConfig = &tlsConfig{CertFile: certFile, KeyFile: keyFile, InsecureSkipVerify: true}
		}
		jobs = append(jobs, job)
	}
	return yaml.Marshal(map[string]any{
		"global":         map[string]string{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
		"scrape_configs": jobs,
	})
}

// parseScrapeTarget accepts http(s)://host:port[/path] or host:port, on
// loopback only; the path defaults to /metrics.
func parseScrapeTarget(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("not a URL or host:port: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("scheme %q: accepted are http and https", u.Scheme)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || port == "" {
		return nil, fmt.Errorf("host %q: want host:port", u.Host)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("host %q is not loopback: the local cluster's Prometheus scrapes 127.0.0.1 only", host)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("query or fragment not supported")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/metrics"
	}
	return u, nil
}
