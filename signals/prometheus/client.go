package prometheus

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// Config says where Prometheus is and how to read it. Address is required;
// every other zero value takes the default named on its field.
type Config struct {
	// Address is Prometheus' base URL, e.g. "http://prometheus.monitoring:9090"
	// or "https://thanos-query.example/prefix".
	Address string
	// BearerTokenFile, when set, is sent as "Authorization: Bearer <token>".
	// It is re-read whenever the file changes, so a projected service-account
	// token that the kubelet rotates keeps working.
	BearerTokenFile string
	// CAFile, when set, is the PEM bundle that verifies an https Address;
	// otherwise the system roots do.
	CAFile string
	// Timeout bounds one HTTP request, connection included, and is passed to
	// Prometheus as the query's own timeout. Default 30s.
	Timeout time.Duration

	// MaxBatch is how many expressions one instant request carries at most.
	// Default DefaultMaxBatch.
	MaxBatch int
	// MaxRangeBatch is how many expressions one range request carries at
	// most, and never more than fit ~500,000 samples. Default
	// DefaultMaxRangeBatch.
	MaxRangeBatch int
	// MaxBatchBytes bounds one request's form-encoded body. Default
	// DefaultMaxBatchBytes.
	MaxBatchBytes int
	// Concurrency is how many requests one call has in flight at most.
	// Default 4; Prometheus serves 20 concurrent queries by default.
	Concurrency int
	// MaxSampleAge is how old the newest raw sample of an expression's
	// selectors under a range (rate(x[5m])) may be before its value is
	// stale (ErrStale). It must exceed the scrape interval plus scrape
	// duration of the series read. Default DefaultMaxSampleAge; negative
	// disables the check, which halves Prometheus' work for such
	// expressions (see the package doc).
	MaxSampleAge time.Duration
	// CPURateWindow is the rate() window of PodCPU. It must hold at least
	// two scrapes of the kubelet's cAdvisor job; four is the usual choice.
	// Default DefaultCPURateWindow.
	CPURateWindow time.Duration
}

// Defaults of Config.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultMaxBatch      = 50
	DefaultMaxBatchBytes = 256 << 10
	DefaultMaxRangeBatch = 1
	DefaultConcurrency   = 4
	DefaultMaxSampleAge  = 2 * time.Minute
	DefaultCPURateWindow = 2 * time.Minute
)

// Client reads Prometheus over its HTTP API with client_golang. It is safe
// for concurrent use.
type Client struct {
	api   promv1.API
	cfg   Config
	stats stats
	cache compileCache
}

var _ Reader = (*Client)(nil)

// New checks cfg and returns a Client. It reads the CA and the token once,
// so a missing or unreadable file is reported here rather than at the first
// query; it does not contact Prometheus.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	u, err := url.Parse(cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("prometheus address %q: %w", cfg.Address, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus address %q: want an http or https URL with a host, e.g. http://prometheus.monitoring:9090", cfg.Address)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("prometheus address %q: a query or fragment is not allowed; give the base URL", cfg.Address)
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading prometheus CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("prometheus CA %s: no PEM certificate in it", cfg.CAFile)
		}
		tlsConfig.RootCAs = pool
	}
	var rt http.RoundTripper = &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: min(cfg.Timeout, 10*time.Second), KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: min(cfg.Timeout, 10*time.Second),
		MaxIdleConnsPerHost: cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	if cfg.BearerTokenFile != "" {
		bt := &bearerFile{path: cfg.BearerTokenFile, next: rt}
		if _, err := bt.token(); err != nil {
			return nil, err
		}
		rt = bt
	}
	c := &Client{cfg: cfg}
	rt = &countingTransport{next: rt, stats: &c.stats}
	api, err := promapi.NewClient(promapi.Config{
		Address: cfg.Address,
		Client:  &http.Client{Transport: rt, Timeout: cfg.Timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", cfg.Address, err)
	}
	c.api = promv1.NewAPI(api)
	return c, nil
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.MaxRangeBatch <= 0 {
		c.MaxRangeBatch = DefaultMaxRangeBatch
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxSampleAge == 0 {
		c.MaxSampleAge = DefaultMaxSampleAge
	}
	if c.CPURateWindow <= 0 {
		c.CPURateWindow = DefaultCPURateWindow
	}
	return c
}

// Stats counts the HTTP requests a Client made, for benchmarks and the
// controller's own metrics.
type Stats struct {
	// Requests is every HTTP request sent, failed ones included.
	Requests int64
	// BytesSent counts request bodies; BytesReceived counts response
	// bodies as read.
	BytesSent, BytesReceived int64
}

// Stats returns the counts since the Client was made.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:      c.stats.requests.Load(),
		BytesSent:     c.stats.sent.Load(),
		BytesReceived: c.stats.received.Load(),
	}
}

type stats struct{ requests, sent, received atomic.Int64 }

// countingTransport counts requests and body bytes.
type countingTransport struct {
	next  http.RoundTripper
	stats *stats
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.stats.requests.Add(1)
	if req.ContentLength > 0 {
		t.stats.sent.Add(req.ContentLength)
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.stats.received}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
