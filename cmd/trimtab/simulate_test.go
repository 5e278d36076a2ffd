package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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

// The JSON field names are a contract: scripts and the acceptance
// depend on them. Each replay runs on the small slices in test/testdata.
func TestSimulateJSONContract(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		strategies []string
		fields     []string
	}{
		{"replicas", []string{"simulate", "replicas", "--traffic", testdata("traffic", "nasa-http-1995-07-03-3days.csv"), "--format", "json"},
			[]string{"trimtab", "hpa", "hpa-matched", "static"},
			[]string{"replica_hours", "overload_minutes", "over_target_minutes", "scale_events", "flaps", "peak_lead_minutes_median", "cost", "target_utilization"}},
		{"requests", []string{"simulate", "requests", "--usage", testdata("usage", "bitbrains-2013-8-vm386-10d.csv"), "--format", "json", "--inject-leak", "40MiB/h"},
			[]string{"trimtab", "vpa", "static", "oracle"},
			[]string{"cpu_slack_mean", "mem_slack_mean", "cpu_over_request_minutes", "oom_minutes", "request_changes", "leak_lead_minutes"}},
		{"prices", []string{"simulate", "prices", "--prices", testdata("prices", "r3.large-2015-head.csv.gz"), "--format", "json"},
			[]string{"trimtab", "always-spot", "always-on-demand", "reactive"},
			[]string{"cost", "interruptions", "moves", "spikes", "spikes_caught", "lead_minutes_median", "lead_minutes_p10", "false_moves_per_market_week"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, tc.args...)
			if err != nil {
				t.Fatalf("trimtab %s: %v", strings.Join(tc.args, " "), err)
			}
			var doc struct {
				Strategies map[string]map[string]any `json:"strategies"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("output is not JSON: %v\n%.500s", err, out)
			}
			for _, s := range tc.strategies {
				got, ok := doc.Strategies[s]
				if !ok {
					t.Errorf("strategies lacks %q (has %v)", s, keys(doc.Strategies))
					continue
				}
				for _, f := range tc.fields {
					if _, ok := got[f]; !ok {
						t.Errorf("strategies.%s lacks %q", s, f)
					}
				}
			}
		})
	}
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

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
