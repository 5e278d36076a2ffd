package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ScrapeLabels returns the job and instance labels the cluster's Prometheus
// attaches to every sample it scrapes from target (a StartPrometheus
// target). Backfilled history of a series the cluster also scrapes needs
// them, or history and live samples are two series.
func ScrapeLabels(target string) (map[string]string, error) {
	u, err := parseScrapeTarget(target)
	if err != nil {
		return nil, fmt.Errorf("scrape target %q: %w", target, err)
	}
	return map[string]string{"job": u.Host + u.Path, "instance": u.Host}, nil
}

// BackfillPrometheus imports openMetricsFile, OpenMetrics text with a
// timestamp on every sample, into the Prometheus add-on's storage: `promtool
// tsdb create-blocks-from openmetrics` (Debian's prometheus package ships
// promtool) writes TSDB blocks into a scratch directory, which are then moved
// into the data directory.
//
// Called before StartPrometheus first starts Prometheus, the history is
// there from its first query. Called while Prometheus runs, it waits until
// Prometheus has loaded the blocks (the file's first sample is queryable),
// which it does on its own within a minute (the TSDB looks for new blocks
// every minute); Prometheus is not restarted,
// so other callers' scrapes go on. Blocks overlapping what Prometheus already
// holds are merged at query time (Prometheus ≥ 2.39 allows overlapping
// blocks), so a series' scraped samples may begin before its backfill ends.
//
// Samples older than Prometheus's retention (30 days here) are dropped at the
// next compaction.
func (cl *Cluster) BackfillPrometheus(ctx context.Context, openMetricsFile string) error {
	c := cl.Config
	if _, err := os.Stat(c.PromtoolBin); err != nil {
		return fmt.Errorf("promtool is not installed (%s missing); run `bash test/cluster/tools/apt.sh prometheus`", c.PromtoolBin)
	}
	base := "http://127.0.0.1:" + strconv.Itoa(c.PrometheusPort)
	probe, at, err := firstSample(openMetricsFile)
	if err != nil {
		return err
	}
	running := false
	err = cl.withState(func(st *Cluster) error {
		dir := c.path("prometheus")
		data := filepath.Join(dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			return err
		}
		tmp, err := os.MkdirTemp(dir, "backfill-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		out, err := exec.CommandContext(ctx, c.PromtoolBin, "tsdb", "create-blocks-from", "openmetrics", "--quiet", openMetricsFile, tmp).CombinedOutput()
		if err != nil {
			return fmt.Errorf("promtool tsdb create-blocks-from openmetrics %s: %w\n%s", openMetricsFile, err, tail(out, 2000))
		}
		blocks, err := os.ReadDir(tmp)
		if err != nil {
			return err
		}
		if len(blocks) == 0 {
			return fmt.Errorf("promtool wrote no blocks from %s: no samples with timestamps?", openMetricsFile)
		}
		for _, b := range blocks {
			if err := os.Rename(filepath.Join(tmp, b.Name()), filepath.Join(data, b.Name())); err != nil {
				return fmt.Errorf("moving backfilled block into %s: %w", data, err)
			}
		}
		_, running = st.addon(prometheusName)
		return nil
	})
	if err != nil {
		return fmt.Errorf("backfilling prometheus: %w", err)
	}
	if !running {
		return nil
	}
	// Wait for Prometheus's periodic block reload to pick the blocks up: the
	// file's first sample becomes queryable.
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := seriesExists(ctx, base, probe, at)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("prometheus did not load the backfilled blocks within 90s: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// firstSample returns the first sample line's series, as a PromQL selector,
// and its timestamp. OpenMetrics escapes label values as PromQL string
// literals do, so name{labels} is the selector as written.
func firstSample(file string) (selector string, at float64, err error) {
	f, err := os.Open(file)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.Index(line, " # "); i > 0 { // an exemplar
			line = line[:i]
		}
		j := strings.LastIndexByte(line, ' ')
		i := strings.LastIndexByte(line[:max(j, 0)], ' ')
		if i <= 0 {
			return "", 0, fmt.Errorf("%s: sample %q has no timestamp; backfilling needs one on every sample", file, line)
		}
		at, err := strconv.ParseFloat(line[j+1:], 64)
		if err != nil {
			return "", 0, fmt.Errorf("%s: sample %q: timestamp: %w", file, line, err)
		}
		return line[:i], at, nil
	}
	if err := sc.Err(); err != nil {
		return "", 0, err
	}
	return "", 0, fmt.Errorf("%s holds no samples", file)
}

// seriesExists asks Prometheus's series API whether selector has data at at
// (Unix seconds).
func seriesExists(ctx context.Context, base, selector string, at float64) error {
	q := url.Values{"match[]": {selector}, "start": {strconv.FormatFloat(at, 'f', -1, 64)}, "end": {strconv.FormatFloat(at, 'f', -1, 64)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/series?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status string           `json:"status"`
		Error  string           `json:"error"`
		Data   []map[string]any `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("series API: %w", err)
	}
	if body.Status != "success" {
		return fmt.Errorf("series API for %s: %s", selector, body.Error)
	}
	if len(body.Data) == 0 {
		return fmt.Errorf("no %s at %v yet", selector, at)
	}
	return nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
