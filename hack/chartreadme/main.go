// Command chartreadme writes charts/trimtab/README.md from the chart's
// values.yaml (internal/chartdoc). Run it after changing values.yaml; the
// charts tests fail while the README is stale.
//
//	go run ./hack/chartreadme [-chart charts/trimtab]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trimtab-dev/trimtab/internal/chartdoc"
)

func main() {
	chart := flag.String("chart", "charts/trimtab", "chart directory")
	flag.Parse()
	if err := run(*chart); err != nil {
		fmt.Fprintln(os.Stderr, "chartreadme:", err)
		os.Exit(1)
	}
}

func run(chart string) error {
	values, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil {
		return err
	}
	readme, err := chartdoc.README(values)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(chart, "README.md"), readme, 0o644)
}
