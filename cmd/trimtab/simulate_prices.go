package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/trimtab-dev/trimtab/decider/spot"
	"github.com/trimtab-dev/trimtab/prices"
	"github.com/trimtab-dev/trimtab/prices/file"
	"github.com/trimtab-dev/trimtab/simulate/pricesim"
)

func init() { simulations = append(simulations, newSimulatePricesCmd) }

func newSimulatePricesCmd() *cobra.Command {
	var (
		files     []string
		overrides []string
		product   string
		format    string
		plotFile  string
		plotMkt   string
		cfg       = pricesim.Config{Forecast: spot.DefaultConfig()}
	)
	cmd := &cobra.Command{
		Use:   "prices",
		Short: "Replay spot price history: trimtab's spike forecaster vs always-spot, always-on-demand and a reactive mover",
		Long: `prices replays recorded EC2 spot price history (either recorded format, gzip
or plain) for a batch workload of --pods pods and reports, per market and
overall, cost, interruptions, moves, spikes caught, the lead before each spike
(median, p10; a miss counts as 0) and false moves per market-week.
The cost model is described in docs/prices.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return fmt.Errorf("--prices: give at least one trace file")
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			o, err := prices.ParseOnDemandOverrides(overrides)
			if err != nil {
				return err
			}
			table := prices.DefaultOnDemand.With(o)
			all, sources, err := file.ReadFilesSources(files)
			if err != nil {
				return err
			}
			var hs []prices.History
			for _, h := range all {
				if h.Market.Product != prices.NormalizeProduct(product) {
					continue
				}
				if p, ok := o[prices.Key(h.Market)]; ok {
					h.OnDemand = p // configuration wins over the trace and the table
				} else if h.OnDemand == 0 {
					h.OnDemand, _ = table.Lookup(h.Market)
				}
				hs = append(hs, h)
			}
			if len(hs) == 0 {
				return fmt.Errorf("--product %q: no market in the traces has it", product)
			}
			meter := newMeter(cmd.ErrOrStderr(), "prices", files, "minute")
			cfg.Progress = meter.Func()
			res, err := pricesim.Run(hs, cfg)
			if err != nil {
				return err
			}
			meter.Done()
			if plotFile != "" {
				var mr *pricesim.MarketResult
				for i := range res.Markets {
					if plotMkt == "" || res.Markets[i].Market.InstanceType == plotMkt {
						mr = &res.Markets[i]
						break
					}
				}
				if mr == nil {
					return fmt.Errorf("--plot-market %q: not among the replayed markets", plotMkt)
				}
				chart := pricesChart(mr, sources[mr.Market])
				if err := writeFile(plotFile, func(w io.Writer) error { return chart.WriteSVG(w) }); err != nil {
					return err
				}
			}
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), newPricesDoc(files, product, o, cfg, res))
			}
			return writePricesTable(cmd.OutOrStdout(), res)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&files, "prices", nil, "recorded spot price traces (either format, gzip or plain); repeat or comma-separate")
	f.StringSliceVar(&overrides, "on-demand", nil, "on-demand price overrides, region/instance-type=USD-per-hour, for the --product replayed (the shipped table is Linux only)")
	f.StringVar(&product, "product", prices.ProductLinux, "product description to replay")
	f.IntVar(&cfg.Pods, "pods", 10, "batch pods running continuously")
	f.DurationVar(&cfg.JobLength, "job-length", time.Hour, "length of one batch job; caps the work an interruption loses")
	f.DurationVar(&cfg.LostWork, "lost-work", 30*time.Minute, "progress a pod loses when interrupted")
	f.DurationVar(&cfg.MoveLoss, "move-loss", 5*time.Minute, "progress a pod loses in a planned move (drained with notice)")
	f.DurationVar(&cfg.Forecast.Horizon, "horizon", cfg.Forecast.Horizon, "how far ahead the forecaster looks")
	f.Float64Var(&cfg.Forecast.POut, "p-out", cfg.Forecast.POut, "crossing probability that moves pods off spot")
	f.Float64Var(&cfg.Forecast.PBack, "p-back", cfg.Forecast.PBack, "crossing probability at or below which pods may move back")
	f.DurationVar(&cfg.Forecast.CalmFor, "calm-for", cfg.Forecast.CalmFor, "time below the threshold before moving back")
	f.BoolVar(&cfg.Forecast.Correlated, "correlated", cfg.Forecast.Correlated, "use correlated markets (same zone or family) as a feature")
	f.StringVar(&format, "format", "table", "output format: table or json")
	f.StringVar(&plotFile, "plot", "", "write an SVG of one market's price and trimtab's placement to this file")
	f.StringVar(&plotMkt, "plot-market", "", "instance type to plot (default: the first market)")
	return cmd
}

func writePricesTable(w io.Writer, res *pricesim.Result) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "market\tstrategy\tcost $\tinterrupts\tmoves\tspikes\tcaught\tcaught>=lead\tlead med (m)\tlead p10 (m)\tfalse/mkt-wk\toff-spot\t")
	row := func(name, strat string, s *pricesim.Stats) {
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%.2f\t%.1f%%\t\n", name, strat, s.Cost, s.Interruptions, s.Moves,
			s.Spikes, orDash(s.SpikesCaught, "%d"), orDash(s.SpikesCaughtInTime, "%d"), orDash(s.LeadMinutesMedian, "%.1f"), orDash(s.LeadMinutesP10, "%.1f"),
			s.FalseMovesPerMarketWeek, 100*s.OffSpotFraction)
	}
	for _, m := range res.Markets {
		for _, n := range pricesim.Strategies {
			row(m.Market.InstanceType+"/"+m.Market.Zone, n, m.Strategies[n])
		}
	}
	for _, n := range pricesim.Strategies {
		row("ALL", n, res.Strategies[n])
	}
	return tw.Flush()
}

// orDash prints *v with format, or "-" for a figure that does not apply.
func orDash[T any](v *T, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}
