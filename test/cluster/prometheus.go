package cluster

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

const prometheusName = "prometheus"

// StartPrometheus runs Debian's Prometheus on 127.0.0.1:Config.PrometheusPort,
// scraping scrapeTargets every second, with its storage under the cluster
// directory, and returns its base URL once it is ready. Targets are URLs
// ("http://127.0.0.1:8080/metrics") or host:port (http, /metrics); they must
// be on loopback. https targets are scraped with the cluster's admin client
// certificate and without verifying the server (loopback processes this
// package started), so the apiserver's /metrics works too.
//
// A running Prometheus with the same targets is reused; with other targets it
// is restarted with the new ones (its data stays). There is one Prometheus per
// cluster: the last caller's targets win. Down stops it.
func (cl *Cluster) StartPrometheus(ctx context.Context, scrapeTargets []string) (string, error) {
	c := cl.Config
	if _, err := os.Stat(c.PrometheusBin); err != nil {
		return "", fmt.Errorf("prometheus is not installed (%s missing); run `bash test/cluster/tools/apt.sh prometheus`", c.PrometheusBin)
	}
	pk := pki{c.path("pki")}
	conf, err := prometheusConfig(scrapeTargets, pk.file("admin.crt"), pk.file("admin.key"))
	if err != nil {
		return "", err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(c.PrometheusPort)
	ready := func(ctx context.Context) error { return httpGetOK(ctx, http.DefaultClient, base+"/-/ready") }
	err = cl.withState(func(st *Cluster) error {
		dir := c.path("prometheus")
		confFile := dir + "/prometheus.yml"
		old, _ := os.ReadFile(confFile)
		if _, ok := st.addon(prometheusName); ok && bytes.Equal(old, conf) && ready(ctx) == nil {
			return nil
		}
		if err := st.stopAddon(prometheusName); err != nil {
			return err
		}
		if err := os.MkdirAll(dir+"/data", 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(confFile, conf, 0o644); err != nil {
			return err
		}
		p, err := startProcess(prometheusName, c.PrometheusBin, c.path("logs"),
			"--config.file="+confFile,
			"--storage.tsdb.path="+dir+"/data",
			"--storage.tsdb.retention.time=1d",
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

// scrapeConfig is the part of Prometheus's scrape_config we write.
type scrapeConfig struct {
	JobName        string         `json:"job_name"`
	Scheme         string         `json:"scheme"`
	MetricsPath    string         `json:"metrics_path"`
	TLSConfig      *tlsConfig     `json:"tls_config,omitempty"`
	StaticConfigs  []staticConfig `json:"static_configs"`
	ScrapeInterval string         `json:"scrape_interval"`
	ScrapeTimeout  string         `json:"scrape_timeout"`
}

type tlsConfig struct {
	CertFile           string `json:"cert_file"`
	KeyFile            string `json:"key_file"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify"`
}

type staticConfig struct {
	Targets []string `json:"targets"`
}

// prometheusConfig renders prometheus.yml: one job per target, named by its
// host:port and path, scraped every second.
func prometheusConfig(targets []string, certFile, keyFile string) ([]byte, error) {
	jobs := make([]scrapeConfig, 0, len(targets))
	seen := map[string]bool{}
	for i, t := range targets {
		u, err := parseScrapeTarget(t)
		if err != nil {
			return nil, fmt.Errorf("scrape target %d (%q): %w", i, t, err)
		}
		job := scrapeConfig{
			JobName: u.Host + u.Path, Scheme: u.Scheme, MetricsPath: u.Path,
			StaticConfigs:  []staticConfig{{Targets: []string{u.Host}}},
			ScrapeInterval: "1s", ScrapeTimeout: "1s",
		}
		if seen[job.JobName] {
			return nil, fmt.Errorf("scrape target %d (%q): listed twice", i, t)
		}
		seen[job.JobName] = true
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
