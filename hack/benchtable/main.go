// Command benchtable turns `go test -bench` output into one aligned table,
// grouped by package, so `make bench` reads at a glance. Lines it does not
// recognise (failures, logs) pass through unchanged, and it exits non-zero
// if the benchmark run reported a failure.
//
// A benchmark that reports a custom metric named "x-ratio" or ending in
// "/baseline" is the same-run comparison against a baseline that the
// project's speed targets are stated in; it is shown like any other column.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

func main() {
	ok, err := format(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// row is one benchmark result: name, iterations and its value/unit pairs.
type row struct {
	pkg, name, iterations string
	metrics               map[string]string
	extra                 []string // non-standard metrics, in reported order
}

// standard are the columns every benchmark has (with -benchmem); any other
// metric a benchmark reports goes into the last column as value+unit pairs,
// so one benchmark's custom metrics don't widen everybody's rows.
var standard = []string{"ns/op", "B/op", "allocs/op"}

func format(in io.Reader, out io.Writer) (ok bool, err error) {
	ok = true
	var rows []row
	pkg := ""
	s := bufio.NewScanner(in)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(line, "pkg: ")
		case strings.HasPrefix(line, "Benchmark") && len(f) >= 4 && len(f)%2 == 0:
			r := row{pkg: pkg, name: f[0], iterations: f[1], metrics: map[string]string{}}
			for i := 2; i+1 < len(f); i += 2 {
				r.metrics[f[i+1]] = f[i]
				if !slices.Contains(standard, f[i+1]) {
					r.extra = append(r.extra, f[i]+" "+f[i+1])
				}
			}
			rows = append(rows, r)
		case strings.HasPrefix(line, "--- FAIL"), strings.HasPrefix(line, "FAIL"), strings.HasPrefix(line, "panic:"):
			ok = false
			fmt.Fprintln(out, line)
		case strings.HasPrefix(line, "goos:"), strings.HasPrefix(line, "goarch:"), strings.HasPrefix(line, "cpu:"),
			strings.HasPrefix(line, "PASS"), strings.HasPrefix(line, "ok "), strings.Contains(line, "[no test files]"):
		default:
			fmt.Fprintln(out, line)
		}
	}
	if err := s.Err(); err != nil {
		return false, err
	}
	if len(rows) == 0 {
		fmt.Fprintln(out, "no benchmarks ran")
		return ok, nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\titerations\tns/op\tB/op\tallocs/op\tother metrics")
	last := ""
	for _, r := range rows {
		if r.pkg != last {
			fmt.Fprintf(tw, "%s\t\t\t\t\t\n", strings.TrimPrefix(r.pkg, "github.com/trimtab-dev/trimtab/"))
			last = r.pkg
		}
		fmt.Fprintf(tw, "  %s\t%s\t", r.name, r.iterations)
		for _, u := range standard {
			v := r.metrics[u]
			if v == "" {
				v = "-"
			}
			fmt.Fprint(tw, v, "\t")
		}
		fmt.Fprintln(tw, strings.Join(r.extra, ", "))
	}
	return ok, tw.Flush()
}
