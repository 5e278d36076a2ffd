package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/clock"
)

// run executes the trimtab command tree with args and returns its stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func testdata(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "test", "testdata"}, parts...)...)
}

// The JSON documents are a contract: scripts and the acceptance
// depend on their field names and null rules (docs/*.md). Each replay runs
// on the small slices in test/testdata.

// jsonDoc is a decoded document: the header, the inputs and the strategies
// (per market too, for prices).
type jsonDoc struct {
	SchemaVersion  *int                      `json:"schema_version"`
	TrimtabVersion string                    `json:"trimtab_version"`
	TrimtabCommit  string                    `json:"trimtab_commit"`
	Inputs         map[string]any            `json:"inputs"`
	Strategies     map[string]map[string]any `json:"strategies"`
	Comparison     map[string]any            `json:"comparison"`
	Markets        []struct {
		Strategies map[string]map[string]any `json:"strategies"`
	} `json:"markets"`
}

func decodeDoc(t *testing.T, args ...string) jsonDoc {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("trimtab %s: %v", strings.Join(args, " "), err)
	}
	var doc jsonDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%.500s", err, out)
	}
	if doc.SchemaVersion == nil || *doc.SchemaVersion != 2 {
		t.Errorf("schema_version %v, want 2", doc.SchemaVersion)
	}
	if doc.TrimtabVersion == "" || doc.TrimtabCommit == "" {
		t.Errorf("trimtab_version %q, trimtab_commit %q: want both set", doc.TrimtabVersion, doc.TrimtabCommit)
	}
	return doc
}

// checkInputs wants every key echoed, and the trace under its flag's name.
func checkInputs(t *testing.T, in map[string]any, traceKey string, trace any, want ...string) {
	t.Helper()
	if got, _ := json.Marshal(in[traceKey]); string(got) != mustJSON(t, trace) {
		t.Errorf("inputs.%s = %s, want %s", traceKey, got, mustJSON(t, trace))
	}
	for _, k := range want {
		if _, ok := in[k]; !ok {
			t.Errorf("inputs lacks %q (has %v)", k, keys(in))
		}
	}
}

// checkStrategies wants exactly the named strategies, each with the same
// key set, including the required fields, and nulls exactly where null
// says: null(strategy, field) reports whether that field must be null.
func checkStrategies(t *testing.T, where string, got map[string]map[string]any, want, required []string, null func(strategy, field string) bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: strategies %v, want %v", where, keys(got), want)
	}
	ref := keys(got[want[0]])
	for _, f := range required {
		if !slices.Contains(ref, f) {
			t.Errorf("%s: %s lacks %q", where, want[0], f)
		}
	}
	for _, s := range want {
		m, ok := got[s]
		if !ok {
			t.Errorf("%s: no strategy %q", where, s)
			continue
		}
		if k := keys(m); !slices.Equal(k, ref) {
			t.Errorf("%s: %s has fields %v, %s has %v: want the same for every strategy", where, s, k, want[0], ref)
		}
		for f, v := range m {
			if want := null(s, f); want != (v == nil) {
				t.Errorf("%s: %s.%s = %v, want null: %v", where, s, f, v, want)
			}
		}
	}
}

func TestSimulateReplicasJSON(t *testing.T) {
	trace := testdata("traffic", "nasa-http-1995-07-03-3days.csv")
	doc := decodeDoc(t, "simulate", "replicas", "--traffic", trace, "--format", "json")
	checkInputs(t, doc.Inputs, "traffic", trace, "time_col", "value_col", "per_pod_capacity", "target_utilization",
		"reactive_target_utilization", "startup_delay_seconds", "warmup_seconds", "price_per_pod_hour", "metrics_delay_seconds",
		"sync_seconds", "min_replicas", "max_replicas", "horizon_seconds", "quantile", "overload_risk", "flap_window_seconds")
	if w := doc.Inputs["warmup_seconds"]; w != float64(24*3600) {
		t.Errorf("inputs.warmup_seconds = %v, want the default, a third of 3 days", w)
	}
	// A static fleet's "lead" before a peak is only the time since the
	// window began: null. The others have whole days to measure.
	checkStrategies(t, "replicas", doc.Strategies, []string{"trimtab", "hpa", "hpa-matched", "static"},
		[]string{"replica_hours", "overload_minutes", "over_target_minutes", "scale_events", "flaps", "peak_lead_minutes",
			"peak_lead_minutes_median", "cost", "target_utilization", "mean_replicas", "max_replicas"},
		func(s, f string) bool { return s == "static" && strings.HasPrefix(f, "peak_lead_minutes") })
	// The comparison has every key whether or not the hpa-matched search
	// succeeded; the saving is null only when it failed.
	for _, k := range []string{"replica_hours_saved_vs_hpa_matched", "replica_hours_extra_vs_hpa", "overload_reduction_vs_hpa",
		"scale_events_ratio_vs_hpa", "hpa_matched_search_satisfied", "hpa_matched_reason"} {
		if _, ok := doc.Comparison[k]; !ok {
			t.Errorf("comparison lacks %q (has %v)", k, keys(doc.Comparison))
		}
	}
	if ok, _ := doc.Comparison["hpa_matched_search_satisfied"].(bool); ok != (doc.Comparison["replica_hours_saved_vs_hpa_matched"] != nil) {
		t.Errorf("comparison: saving %v with the search satisfied %v: want null exactly when it failed",
			doc.Comparison["replica_hours_saved_vs_hpa_matched"], doc.Comparison["hpa_matched_search_satisfied"])
	}
}

func TestSimulateRequestsJSON(t *testing.T) {
	trace := testdata("usage", "bitbrains-2013-8-vm386-10d.csv")
	fields := []string{"cpu_slack_mean", "cpu_slack_p50", "mem_slack_mean", "mem_slack_p50", "cpu_over_request_minutes",
		"oom_minutes", "oom_kills", "request_changes", "request_changes_per_day", "leak_oom_at", "leak_lead_minutes",
		"leak_caught", "leak_oom_minutes", "leak_raises", "last_change"}
	inputs := []string{"warmup_seconds", "inject_leak_bytes_per_hour", "node_allocatable_cpu_cores", "node_allocatable_memory_bytes"}
	strategies := []string{"trimtab", "vpa", "static", "oracle"}
	t.Run("leak", func(t *testing.T) {
		// 200 MiB/h reaches every request within the 10 days.
		doc := decodeDoc(t, "simulate", "requests", "--usage", trace, "--format", "json", "--inject-leak", "200MiB/h", "--node-cpu", "16")
		checkInputs(t, doc.Inputs, "usage", trace, inputs...)
		if doc.Inputs["inject_leak_bytes_per_hour"] != float64(200<<20) || doc.Inputs["node_allocatable_cpu_cores"] != 16.0 || doc.Inputs["node_allocatable_memory_bytes"] != nil {
			t.Errorf("inputs %v: want the leak rate, 16 cores and null (unbounded) memory", doc.Inputs)
		}
		// The oracle knows the future: no lead, no catch, no OOM of its
		// own to time; it changes at each day's peak, with no reason. The
		// static request never changes; its leak OOM was not caught.
		checkStrategies(t, "requests", doc.Strategies, strategies, fields, func(s, f string) bool {
			switch {
			case s == "oracle":
				return f == "leak_oom_at" || f == "leak_lead_minutes" || f == "leak_caught" || f == "last_change"
			case s == "static":
				return f == "leak_lead_minutes" || f == "last_change"
			}
			return false
		})
	})
	t.Run("no leak", func(t *testing.T) {
		doc := decodeDoc(t, "simulate", "requests", "--usage", trace, "--format", "json")
		checkInputs(t, doc.Inputs, "usage", trace, inputs...)
		checkStrategies(t, "requests", doc.Strategies, strategies, fields, func(s, f string) bool {
			switch f {
			case "leak_oom_at", "leak_lead_minutes", "leak_caught", "leak_oom_minutes":
				return true
			case "last_change":
				return s == "static" || s == "oracle"
			}
			return false
		})
	})
}

func TestSimulatePricesJSON(t *testing.T) {
	trace := testdata("prices", "r3.large-2015-head.csv.gz")
	doc := decodeDoc(t, "simulate", "prices", "--prices", trace, "--format", "json")
	checkInputs(t, doc.Inputs, "prices", []string{trace}, "product", "on_demand_overrides", "pods", "job_length_seconds",
		"lost_work_seconds", "move_loss_seconds", "tick_seconds", "reactive_calm_seconds", "spike_merge_seconds",
		"lead_target_seconds", "forecast")
	// Only trimtab (on its forecast) and the oracle (on the future) leave
	// spot ahead of a spike; the baselines' lead figures are null, not 0 or
	// the time since the trace began.
	strategies := []string{"trimtab", "always-spot", "always-on-demand", "reactive", "oracle"}
	fields := []string{"cost", "interruptions", "moves", "spikes", "spikes_caught", "spikes_caught_in_time",
		"lead_minutes_median", "lead_minutes_p10", "false_moves", "false_moves_per_market_week", "off_spot_fraction", "market_weeks"}
	null := func(s, f string) bool {
		lead := f == "spikes_caught" || f == "spikes_caught_in_time" || strings.HasPrefix(f, "lead_minutes")
		return lead && s != "trimtab" && s != "oracle"
	}
	checkStrategies(t, "prices", doc.Strategies, strategies, fields, null)
	if len(doc.Markets) != 1 {
		t.Fatalf("%d markets, want 1", len(doc.Markets))
	}
	checkStrategies(t, "prices market", doc.Markets[0].Strategies, strategies, fields, null)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func keys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func TestSimulateTableAndPlot(t *testing.T) {
	plot := filepath.Join(t.TempDir(), "run.svg")
	out, err := run(t, "simulate", "replicas", "--traffic", testdata("traffic", "nasa-http-1995-07-03-3days.csv"), "--plot", plot)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "trimtab") || !strings.Contains(out, "hpa-matched") {
		t.Errorf("table lacks the strategies:\n%s", out)
	}
	b, err := os.ReadFile(plot)
	if err != nil || !bytes.HasPrefix(b, []byte("<svg")) {
		t.Errorf("plot %s: %v, starts %.20q", plot, err, b)
	}
}

// Each plot names the trace, its time zone and the window, and marks what
// the replay is about: overload minutes, OOMs and the leak's start, and
// trimtab's stretches off spot.
func TestSimulatePlots(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		file string
		want []string
	}{
		{"replicas", []string{"simulate", "replicas", "--traffic", testdata("traffic", "nasa-http-1995-07-03-3days.csv")}, "r.svg",
			[]string{"nasa-http-1995-07-03-3days.csv · times UTC · evaluation window 1995-07-04 00:00 .. 1995-07-06 00:00", "trimtab overloaded (", "hpa overloaded ("}},
		{"requests", []string{"simulate", "requests", "--usage", testdata("usage", "bitbrains-2013-8-vm386-10d.csv"), "--inject-leak", "40MiB/h"}, "m.svg",
			[]string{"bitbrains-2013-8-vm386-10d.csv · times UTC · scored period ", "trimtab OOM (", "injected leak (40 MiB/h) starts ", `stroke-dasharray`}},
		{"prices", []string{"simulate", "prices", "--prices", testdata("prices", "r3.large-2015-head.csv.gz")}, "p.svg",
			[]string{"r3.large-2015-head.csv.gz · times UTC · whole history 2015-03-11 16:50 .. 2015-03-23 22:38", "trimtab off spot (", "trimtab interrupted ("}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			if _, err := run(t, append(tc.args, "--plot", path)...); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("plot lacks %q", w)
				}
			}
			if tc.name == "prices" {
				// The off-spot series (the third path) is drawn: each stretch
				// off spot a move-to and a horizontal run.
				paths := regexp.MustCompile(`<path d="([^"]*)"`).FindAllStringSubmatch(string(b), -1)
				if len(paths) != 3 || !strings.Contains(paths[2][1], "H") {
					t.Errorf("off-spot path not drawn: %d paths, third %.80q", len(paths), paths[min(2, len(paths)-1)][1])
				}
			}
		})
	}
}

// Bad input is an error that names what is wrong, never a panic or output.
func TestSimulateBadInput(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.csv")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"simulate", "replicas", "--traffic", "does-not-exist.csv"}, "does-not-exist.csv"},
		{[]string{"simulate", "replicas", "--traffic", empty}, "empty"},
		{[]string{"simulate", "requests", "--usage", testdata("usage", "bitbrains-2013-8-vm386-10d.csv"), "--format", "xml"}, "xml"},
		{[]string{"simulate", "requests", "--usage", testdata("usage", "bitbrains-2013-8-vm386-10d.csv"), "--inject-leak", "fast"}, "fast"},
		{[]string{"simulate", "prices", "--prices", "nope.csv.gz"}, "nope.csv.gz"},
	} {
		out, err := run(t, tc.args...)
		if err == nil {
			t.Errorf("trimtab %s succeeded, want an error", strings.Join(tc.args, " "))
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("trimtab %s: error %q does not name %q", strings.Join(tc.args, " "), err, tc.want)
		}
		if out != "" {
			t.Errorf("trimtab %s printed output despite failing:\n%.300s", strings.Join(tc.args, " "), out)
		}
	}
}

func TestVersion(t *testing.T) {
	out, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "trimtab ") {
		t.Errorf("version = %q, %v", out, err)
	}
}

// steppingClock advances by step at every reading: a replay's progress
// hook reads it every few thousand units, so a test sees lines without
// sleeping.
type steppingClock struct {
	t    time.Time
	step time.Duration
}

func (c *steppingClock) Now() time.Time                  { c.t = c.t.Add(c.step); return c.t }
func (c *steppingClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// runBoth executes the command tree and returns its stdout and stderr.
func runBoth(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("trimtab %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String()
}

// A slow replay writes progress to standard error, never to standard
// output (the JSON stays clean); a fast one writes nothing.
func TestSimulateProgress(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in a progress line
	}{
		{[]string{"simulate", "replicas", "--traffic", testdata("traffic", "nasa-http-1995-07-03-3days.csv")}, "trimtab simulate replicas nasa-http-1995-07-03-3days.csv: trimtab: sync "},
		{[]string{"simulate", "requests", "--usage", testdata("usage", "bitbrains-2013-8-vm386-10d.csv")}, "trimtab simulate requests bitbrains-2013-8-vm386-10d.csv: four strategies: sample 1024 of "},
		{[]string{"simulate", "prices", "--prices", testdata("prices", "r3.large-2015-head.csv.gz")}, "trimtab simulate prices r3.large-2015-head.csv.gz: 1 market: minute "},
	} {
		t.Run(tc.args[1], func(t *testing.T) {
			defer func(c clock.PassiveClock) { progressClock = c }(progressClock)
			args := append(tc.args, "--format", "json")

			progressClock = &steppingClock{t: time.Unix(0, 0), step: time.Second}
			out, errOut := runBoth(t, args...)
			if !json.Valid([]byte(out)) {
				t.Errorf("stdout is not just the JSON document:\n%.300s", out)
			}
			if !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "elapsed") || !strings.Contains(errOut, ": done in ") {
				t.Errorf("stderr lacks progress %q ... done:\n%s", tc.want, errOut)
			}

			progressClock = &steppingClock{t: time.Unix(0, 0)} // time stands still: a fast run
			if _, errOut := runBoth(t, args...); errOut != "" {
				t.Errorf("a fast run wrote to stderr:\n%s", errOut)
			}
		})
	}
}
