package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/internal/plot"
	"github.com/trimtab-dev/trimtab/prices"
	"github.com/trimtab-dev/trimtab/simulate/pricesim"
	"github.com/trimtab-dev/trimtab/simulate/replicasim"
	"github.com/trimtab-dev/trimtab/simulate/requestsim"
)

// strategyColors give each strategy (in report order) the same colour in its
// line and its marks; grey is the trace itself.
var strategyColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"}

const traceColor = "#444444"

// plotSubtitle names what a chart shows: the trace file, the zone its times
// are in (and the axis is labelled in), and the window plotted.
func plotSubtitle(file string, from, to time.Time, window string) string {
	return fmt.Sprintf("%s · times %s · %s %s .. %s", filepath.Base(file), zoneName(from), window,
		from.Format("2006-01-02 15:04"), to.Format("2006-01-02 15:04"))
}

// zoneName is t's zone: its name, or its offset for an unnamed fixed zone (a
// trace whose timestamps carry an offset).
func zoneName(t time.Time) string {
	if name, _ := t.Zone(); name != "" {
		return name
	}
	return "UTC" + t.Format("-07:00")
}

// replicasChart plots load, the forecast band and each strategy's ready
// capacity (in load units) over the last plotDays of the evaluation window,
// thinned to about 2000 points (load keeps each block's maximum), with the
// minutes each strategy was overloaded marked under it at full resolution.
func replicasChart(name string, rep replicasim.Report, s replicasim.Steps, plotDays int) plot.Chart {
	from := 0
	start := rep.EvalFrom
	if plotDays > 0 {
		if t := rep.EvalTo.Add(-time.Duration(plotDays) * 24 * time.Hour); t.After(start) {
			start = t
		}
	}
	for from < len(s.Times) && s.Times[from].Before(start) {
		from++
	}
	stride := max((len(s.Times)-from)/2000, 1)
	var times []time.Time
	var load, lo, hi []float64
	caps := map[string][]float64{}
	for k := from; k < len(s.Times); k += stride {
		end := min(k+stride, len(s.Times))
		mx := 0.0
		for j := k; j < end; j++ {
			mx = math.Max(mx, s.Load[j])
		}
		times = append(times, s.Times[k])
		load = append(load, mx)
		lo = append(lo, s.Forecast[k])
		hi = append(hi, s.Upper[k])
		for _, n := range strategyOrder {
			caps[n] = append(caps[n], float64(s.Ready[n][k])*rep.PerPodCapacity)
		}
	}
	window := "evaluation window"
	if start.After(rep.EvalFrom) {
		window = fmt.Sprintf("last %d days of the evaluation,", plotDays)
	}
	c := plot.Chart{Title: "trimtab simulate replicas: load and each strategy's ready capacity",
		Subtitle: plotSubtitle(name, start, rep.EvalTo, window),
		YLabel:   "load per sample (capacity = ready pods × per-pod capacity)",
		Location: rep.EvalFrom.Location(),
		Series:   []plot.Series{{Name: "load", Color: traceColor, Times: times, Values: load}},
		Bands:    []plot.Band{{Name: "forecast (point..p-quantile)", Color: "#9467bd", Times: times, Lo: lo, Hi: hi}}}
	peak := 0.0
	for _, v := range load {
		peak = math.Max(peak, v)
	}
	for i, n := range strategyOrder {
		color := strategyColors[i]
		ready := s.Ready[n]
		over := plot.SpansWhere("", color, s.Times[from:], rep.EvalTo, func(k int) bool {
			return s.Load[from+k] > float64(ready[from+k])*rep.PerPodCapacity
		})
		minutes := 0.0
		for j := range over.From {
			minutes += over.To[j].Sub(over.From[j]).Minutes()
		}
		over.Name = fmt.Sprintf("%s overloaded (%.4g min in this window)", n, minutes)
		c.Spans = append(c.Spans, over)
		if top := maxOf(caps[n]); n == replicasim.Static && top > 3*peak && peak > 0 {
			// A peak-sized static fleet on a spiky trace would flatten every
			// other line; say so instead of drawing it. The scaling
			// strategies are the subject: they are always drawn.
			c.Title += fmt.Sprintf(" (%s off-scale at %.0f)", n, top)
			continue
		}
		c.Series = append(c.Series, plot.Series{Name: n + " capacity", Color: color, Times: times, Values: caps[n], Step: true})
	}
	return c
}

func maxOf(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}

// requestsCharts plots usage and each strategy's request over the scored
// period, memory and CPU: OOMs marked under the memory chart and CPU over
// request under the CPU chart, per strategy, and the injected leak's start.
func requestsCharts(name string, r requestsim.Result) (mem, cpu plot.Chart) {
	s := r.Series
	if len(s.Times) == 0 {
		return mem, cpu // WriteSVG says there is nothing to draw
	}
	sub := plotSubtitle(name, s.Times[0], r.End, "scored period")
	loc := s.Times[0].Location()
	mem = plot.Chart{Title: "trimtab simulate requests: memory usage and each strategy's request (= limit)", Subtitle: sub, YLabel: "GiB", Location: loc}
	cpu = plot.Chart{Title: "trimtab simulate requests: CPU usage and each strategy's request", Subtitle: sub, YLabel: "cores", Location: loc}
	gib := func(x requests.Resources) float64 { return x.Memory / (1 << 30) }
	cores := func(x requests.Resources) float64 { return x.CPU }
	mem.Series = append(mem.Series, plot.Series{Name: "usage", Color: traceColor, Times: s.Times, Values: pick(s.Usage, gib)})
	cpu.Series = append(cpu.Series, plot.Series{Name: "usage", Color: traceColor, Times: s.Times, Values: pick(s.Usage, cores)})
	for i, n := range requestsim.Names {
		color, req, m := strategyColors[i], s.Requests[n], r.Strategies[n]
		mem.Series = append(mem.Series, plot.Series{Name: n, Color: color, Step: true, Times: s.Times, Values: pick(req, gib)})
		cpu.Series = append(cpu.Series, plot.Series{Name: n, Color: color, Step: true, Times: s.Times, Values: pick(req, cores)})
		oom := plot.SpansWhere(fmt.Sprintf("%s OOM (%d kills, %.0f min)", n, m.OOMKills, m.OOMMinutes), color, s.Times, r.End,
			func(k int) bool { return s.Usage[k].Memory > req[k].Memory })
		mem.Spans = append(mem.Spans, oom)
		if m.CPUOverRequestMinutes > 0 {
			cpu.Spans = append(cpu.Spans, plot.SpansWhere(fmt.Sprintf("%s CPU over request (%.0f min)", n, m.CPUOverRequestMinutes), color, s.Times, r.End,
				func(k int) bool { return s.Usage[k].CPU > req[k].CPU }))
		}
	}
	if r.LeakStart != nil {
		leak := plot.Event{Name: fmt.Sprintf("injected leak (%s/h) starts %s", requests.FormatBytes(r.LeakRate), r.LeakStart.In(loc).Format("01-02 15:04")),
			Color: "#000000", Time: *r.LeakStart}
		mem.Events = append(mem.Events, leak)
	}
	return mem, cpu
}

func pick(v []requests.Resources, f func(requests.Resources) float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = f(x)
	}
	return out
}

// writeRequestsPlot writes the memory chart to file and the CPU chart to
// file with -cpu before its extension.
func writeRequestsPlot(file, name string, r requestsim.Result) error {
	mem, cpu := requestsCharts(name, r)
	cpuFile := file + "-cpu"
	if i := strings.LastIndex(file, "."); i > strings.LastIndex(file, "/") {
		cpuFile = file[:i] + "-cpu" + file[i:]
	}
	if err := writeFile(file, func(w io.Writer) error { return mem.WriteSVG(w) }); err != nil {
		return err
	}
	return writeFile(cpuFile, func(w io.Writer) error { return cpu.WriteSVG(w) })
}

// pricesChart plots one market's spot price, its on-demand price and the
// stretches trimtab kept the market off spot (drawn just above the
// on-demand price, and again in a lane under the chart, where short ones
// stand out), with trimtab's interruptions marked under it.
func pricesChart(mr *pricesim.MarketResult, source string) plot.Chart {
	h := mr.History
	first, last := h.Points[0].Time, h.Points[len(h.Points)-1].Time
	spot := plot.Series{Name: "spot price", Color: traceColor, Step: true}
	for _, p := range h.Points {
		spot.Times = append(spot.Times, p.Time)
		spot.Values = append(spot.Values, p.Price)
	}
	od := plot.Series{Name: "on-demand price", Color: strategyColors[1], Times: []time.Time{first, last}, Values: []float64{h.OnDemand, h.OnDemand}}
	// Off spot: a step at 1.05 × on-demand while off, NaN (a gap) while on
	// spot, closed at the end of the history.
	off := plot.Series{Name: "trimtab off spot", Color: strategyColors[2], Step: true,
		Times: []time.Time{first}, Values: []float64{math.NaN()}}
	st := mr.Strategies[pricesim.Trimtab]
	offLane := plot.Spans{Name: fmt.Sprintf("trimtab off spot (%.1f%% of the time)", 100*st.OffSpotFraction), Color: strategyColors[2]}
	interrupted := plot.Spans{Name: fmt.Sprintf("trimtab interrupted (%d)", st.Interruptions), Color: strategyColors[3]}
	for _, t := range mr.Transitions {
		v := math.NaN()
		if t.Off {
			v = h.OnDemand * 1.05
		}
		switch {
		case t.Off && len(offLane.From) == len(offLane.To):
			offLane.From = append(offLane.From, t.Time)
		case !t.Off && len(offLane.From) > len(offLane.To):
			offLane.To = append(offLane.To, t.Time)
		}
		off.Times = append(off.Times, t.Time)
		off.Values = append(off.Values, v)
		if t.Reason == "interrupted" {
			interrupted.From = append(interrupted.From, t.Time)
			interrupted.To = append(interrupted.To, t.Time)
		}
	}
	off.Times = append(off.Times, last)
	off.Values = append(off.Values, math.NaN())
	if len(offLane.From) > len(offLane.To) {
		offLane.To = append(offLane.To, last)
	}
	return plot.Chart{
		Title:    fmt.Sprintf("trimtab simulate prices: %s spot price and trimtab's placement", marketName(mr.Market)),
		Subtitle: plotSubtitle(source, first, last, "whole history"),
		YLabel:   "USD per instance-hour",
		Location: first.Location(),
		Series:   []plot.Series{spot, od, off},
		Spans:    []plot.Spans{offLane, interrupted},
	}
}

func marketName(m prices.Market) string { return m.InstanceType + " " + m.Zone + " " + m.Product }
