package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/trimtab-dev/trimtab/decider/replicas"
	"github.com/trimtab-dev/trimtab/simulate/replicasim"
)

func init() { simulations = append(simulations, newSimulateReplicasCmd) }

func newSimulateReplicasCmd() *cobra.Command {
	var (
		traffic, timeCol, valueCol, format, plotFile, stepsFile string
		cfg                                                     replicasim.Config
		plotDays                                                int
	)
	cmd := &cobra.Command{
		Use:   "replicas",
		Short: "Replay a traffic trace through trimtab's replica decider and the HPA",
		Long: `replicas replays a traffic CSV through trimtab (max of forecast, HPA-compatible
reactive path and floor), the HPA algorithm with upstream default behavior,
an HPA whose target is lowered until it overloads no more than trimtab
(hpa-matched), and a static count sized for the peak — all with the same
per-pod capacity, target utilization, pod start-up delay and evaluation
window — and reports replica-hours, overload, scale events, flaps, lead
before daily peaks and cost. See docs/replicas.md.`,
		Example: `  trimtab simulate replicas --traffic ../shared/data/traffic/nasa-http-1995-requests-per-minute.csv
  trimtab simulate replicas --traffic wc98.csv --format json --steps steps.csv --plot run.svg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if traffic == "" {
				return fmt.Errorf("--traffic: a CSV file is required")
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			f, err := os.Open(traffic)
			if err != nil {
				return fmt.Errorf("opening --traffic: %w", err)
			}
			defer f.Close()
			tr, err := replicasim.ParseTrace(f, timeCol, valueCol)
			if err != nil {
				return fmt.Errorf("reading %s: %w", traffic, err)
			}
			meter := newMeter(cmd.ErrOrStderr(), "replicas", []string{traffic}, "sync")
			cfg.Progress = meter.Func()
			rep, steps, err := replicasim.Simulate(tr, cfg)
			if err != nil {
				return fmt.Errorf("replaying %s: %w", traffic, err)
			}
			meter.Done()
			if stepsFile != "" {
				if err := writeFile(stepsFile, func(w io.Writer) error { return writeSteps(w, steps) }); err != nil {
					return err
				}
			}
			if plotFile != "" {
				if err := writeFile(plotFile, func(w io.Writer) error { return replicasChart(traffic, rep, steps, plotDays).WriteSVG(w) }); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				return writeJSON(out, newReplicasDoc(traffic, timeCol, valueCol, tr, cfg, rep))
			}
			return writeTable(out, rep)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&traffic, "traffic", "", "traffic CSV: a time column and a load column")
	fl.StringVar(&timeCol, "time-col", "", "time column: header name or 1-based index (default: first)")
	fl.StringVar(&valueCol, "value-col", "", "load column: header name or 1-based index (default: second)")
	fl.Float64Var(&cfg.CapacityPerPod, "per-pod-capacity", 0, "load units per sample one pod serves at 100% (default: the trace median needs ~10 pods at the target)")
	fl.Float64Var(&cfg.TargetUtilization, "target-utilization", 0.7, "target utilization of ready capacity, for every strategy")
	fl.DurationVar(&cfg.StartupDelay, "startup-delay", 90*time.Second, "time from scale-out to a ready pod")
	fl.DurationVar(&cfg.Warmup, "warmup", 0, "prefix that feeds history only (default: 7 days, or a third of a shorter trace)")
	fl.Float64Var(&cfg.PricePerPodHour, "price-per-pod-hour", 0.05, "price of one pod for one hour, for cost")
	fl.DurationVar(&cfg.MetricsDelay, "metrics-delay", time.Minute, "age of the metric the reactive paths see (metrics pipeline)")
	fl.DurationVar(&cfg.Sync, "sync", 15*time.Second, "controller sync period")
	fl.DurationVar(&cfg.Horizon, "horizon", 10*time.Minute, "forecast horizon past the start-up delay")
	fl.Float64Var(&cfg.Quantile, "quantile", 0.9, "forecast quantile trimtab sizes for")
	fl.Float64Var(&cfg.OverloadRisk, "overload-risk", replicas.DefaultOverloadRisk, "share of minutes the forecast's tail may exceed ready capacity at 100% (negative: off)")
	fl.StringVar(&format, "format", "table", "output: table or json")
	fl.StringVar(&plotFile, "plot", "", "write an SVG chart (load, forecast band, each strategy's ready capacity)")
	fl.IntVar(&plotDays, "plot-days", 3, "days at the end of the evaluation window to plot (0: all)")
	fl.StringVar(&stepsFile, "steps", "", "write every sync step as CSV")
	return cmd
}

func writeFile(name string, fn func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	if err := fn(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return f.Close()
}

var strategyOrder = []string{replicasim.Trimtab, replicasim.HPA, replicasim.HPAMatched, replicasim.Static}

func writeTable(w io.Writer, rep replicasim.Report) error {
	fmt.Fprintf(w, "evaluated %s .. %s (%d samples of %gs, %d missing samples left unscored); per-pod capacity %.4g; start-up %gs; metrics delay %gs; forecast period %s\n\n",
		rep.EvalFrom.Format(time.RFC3339), rep.EvalTo.Format(time.RFC3339), rep.Samples, rep.StepSeconds, rep.Gaps,
		rep.PerPodCapacity, rep.StartupDelaySeconds, rep.MetricsDelaySeconds, rep.ForecastPeriod)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\ttarget\treplica-h\toverload min\tover-target min\tscale events\tflaps\tpeak lead min (median)\tcost\t")
	for _, name := range strategyOrder {
		s := rep.Strategies[name]
		fmt.Fprintf(tw, "%s\t%.2f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%s\t%.2f\t\n", name, s.TargetUtilization, s.ReplicaHours,
			s.OverloadMinutes, s.OverTargetMinutes, s.ScaleEvents, s.Flaps, fmtF(float64(s.PeakLeadMinutesMedian)), s.Cost)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	c := rep.Comparison
	_, err := fmt.Fprintf(w, "\ntrimtab vs hpa-matched: %s fewer replica-hours; vs hpa: %s overload, %s replica-hours, %s× scale events\n",
		pct(float64(c.ReplicaHoursSavedVsHPAMatched)), pct(-float64(c.OverloadReductionVsHPA)), pct(float64(c.ReplicaHoursExtraVsHPA)), fmtF(float64(c.ScaleEventsRatioVsHPA)))
	if err == nil && !c.HPAMatchedSearchSatisfied {
		_, err = fmt.Fprintf(w, "hpa-matched search failed: %s\n", c.HPAMatchedReason)
	}
	return err
}

func fmtF(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", v*100)
}

func writeSteps(w io.Writer, s replicasim.Steps) error {
	cw := csv.NewWriter(w)
	head := []string{"time", "load", "forecast", "forecast_upper"}
	for _, n := range strategyOrder {
		head = append(head, n+"_desired", n+"_ready")
	}
	head = append(head, "trimtab_reason")
	if err := cw.Write(head); err != nil {
		return err
	}
	row := make([]string, len(head))
	for k, t := range s.Times {
		row = row[:0]
		row = append(row, t.UTC().Format(time.RFC3339), num(s.Load[k]), num(s.Forecast[k]), num(s.Upper[k]))
		for _, n := range strategyOrder {
			row = append(row, strconv.Itoa(int(s.Desired[n][k])), strconv.Itoa(int(s.Ready[n][k])))
		}
		reason := ""
		if s.Reasons != nil {
			reason = s.Reasons[k]
		}
		row = append(row, reason)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func num(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
