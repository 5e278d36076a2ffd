package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/simulate/requestsim"
)

func init() { simulations = append(simulations, newSimulateRequestsCmd) }

func newSimulateRequestsCmd() *cobra.Command {
	var (
		usage, format, plotFile, leak string
		warmup                        time.Duration
		nodeCPU, nodeMem              string
	)
	cmd := &cobra.Command{
		Use:   "requests --usage FILE",
		Short: "Replay a container's usage through trimtab's learned requests, VPA, static and an oracle",
		Long: `requests replays one container's CPU and memory usage (the Bitbrains
';'-separated format, or "timestamp,cpu,memory") through trimtab's request
model and three baselines: the VPA recommender's defaults, the static
provisioned value, and an oracle that requests each day's peak. After the
warm-up it reports per strategy the mean and median slack
((request-usage)/request), minutes with CPU over its request, minutes with
memory over its limit (OOM; the limit equals the memory request), and the
number of request changes. --inject-leak adds a memory leak from the middle
of the scored period and reports how long before the OOM memory was raised.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if usage == "" {
				return fmt.Errorf("--usage is required: a usage CSV file")
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			opt := requestsim.Options{Warmup: warmup}
			var err error
			if leak != "" {
				if opt.LeakRate, err = parseRate(leak); err != nil {
					return err
				}
			}
			if opt.Policy.NodeAllocatable.CPU, err = parseQuantity("--node-cpu", nodeCPU); err != nil {
				return err
			}
			if opt.Policy.NodeAllocatable.Memory, err = parseQuantity("--node-memory", nodeMem); err != nil {
				return err
			}
			f, err := os.Open(usage)
			if err != nil {
				return fmt.Errorf("opening usage trace: %w", err)
			}
			defer f.Close()
			tr, err := requestsim.Parse(f)
			if err != nil {
				return fmt.Errorf("reading %s: %w", usage, err)
			}
			meter := newMeter(cmd.ErrOrStderr(), "requests", []string{usage}, "sample")
			opt.Progress = meter.Func()
			res, err := requestsim.Run(tr, opt)
			if err != nil {
				return fmt.Errorf("replaying %s: %w", usage, err)
			}
			meter.Done()
			if plotFile != "" {
				if err := writeRequestsPlot(plotFile, usage, res); err != nil {
					return err
				}
			}
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), newRequestsDoc(usage, opt, res))
			}
			return writeRequestsTable(cmd.OutOrStdout(), usage, res)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&usage, "usage", "", "usage CSV: Bitbrains (';'-separated) or timestamp,cpu,memory")
	fl.StringVar(&format, "format", "table", "output: table or json")
	fl.StringVar(&plotFile, "plot", "", "write memory usage vs each strategy's request as SVG to FILE, and CPU to FILE with -cpu before the extension")
	fl.StringVar(&leak, "inject-leak", "", "add a memory leak of RATE from the middle of the scored period, e.g. 40MiB/h")
	fl.DurationVar(&warmup, "warmup", 0, "learn but do not score this long at the start (default: 7 days, or a third of a shorter trace)")
	fl.StringVar(&nodeCPU, "node-cpu", "", "largest node's allocatable CPU, e.g. 16 or 15800m (default: unbounded)")
	fl.StringVar(&nodeMem, "node-memory", "", "largest node's allocatable memory, e.g. 64Gi (default: unbounded)")
	return cmd
}

// parseRate reads a leak rate like "40MiB/h", "1Gi/d" or "500KiB/min".
func parseRate(s string) (float64, error) {
	qty, per, ok := strings.Cut(s, "/")
	units := map[string]float64{"s": 1.0 / 3600, "min": 1.0 / 60, "m": 1.0 / 60, "h": 1, "d": 24}
	hours, known := units[per]
	if !ok || !known {
		return 0, fmt.Errorf("--inject-leak %q: want QUANTITY/UNIT with UNIT one of s, min, h, d, e.g. 40MiB/h", s)
	}
	q, err := resource.ParseQuantity(strings.Replace(qty, "iB", "i", 1))
	if err != nil || q.Sign() <= 0 {
		return 0, fmt.Errorf("--inject-leak %q: %q is not a positive quantity (e.g. 40MiB, 40Mi, 1G)", s, qty)
	}
	return q.AsApproximateFloat64() / hours, nil
}

func parseQuantity(flag, s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	q, err := resource.ParseQuantity(s)
	if err != nil || q.Sign() <= 0 {
		return 0, fmt.Errorf("%s %q: want a positive quantity like 16, 15800m or 64Gi", flag, s)
	}
	return q.AsApproximateFloat64(), nil
}

func writeRequestsTable(w io.Writer, name string, r requestsim.Result) error {
	fmt.Fprintf(w, "%s: scored %.1f days from %s", name, r.ScoredDays, r.ScoredFrom.Format("2006-01-02 15:04"))
	if r.LeakStart != nil {
		fmt.Fprintf(w, "; leak %s/h from %s", requests.FormatBytes(r.LeakRate), r.LeakStart.Format("01-02 15:04"))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\tcpu slack mean\tp50\tmem slack mean\tp50\tcpu>req min\tOOM min\tOOM kills\tchanges\t/day\tleak lead min\t")
	for _, n := range requestsim.Names {
		m := r.Strategies[n]
		lead := "-"
		if m.LeakLeadMinutes != nil {
			lead = fmt.Sprintf("%.0f", *m.LeakLeadMinutes)
		} else if m.LeakCaught != nil {
			lead = "missed"
		}
		fmt.Fprintf(tw, "%s\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f%%\t%.0f\t%.0f\t%d\t%d\t%.2f\t%s\t\n", n,
			100*m.CPUSlackMean, 100*m.CPUSlackP50, 100*m.MemSlackMean, 100*m.MemSlackP50,
			m.CPUOverRequestMinutes, m.OOMMinutes, m.OOMKills, m.RequestChanges, m.RequestChangesPerDay, lead)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if m := r.Strategies[requestsim.Trimtab]; m.LastChange != nil {
		fmt.Fprintf(w, "trimtab's last change: %s\n", *m.LastChange)
	}
	return nil
}
