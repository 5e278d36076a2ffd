// Package loadexporter replays a recorded traffic trace (a CSV of time,value,
// e.g. requests per minute) as a Prometheus gauge, so the local cluster's
// Prometheus holds a realistic load series for trimtab's live decisions and
// for a shadowed HPA.
//
// A Replay maps the wall clock onto the trace: the wall-clock instant Start
// plays the trace at TraceAt, and time runs on from there at the trace's own
// pace, wrapping around at the trace's end. Align picks TraceAt so that the
// trace's daily ramp (RampTimeOfDay: the start of the hour over which the
// average day rises most) arrives a chosen lead after Start, with a week of
// trace before it.
//
// The same mapping gives the history: WriteOpenMetrics writes the samples
// the replay would have served for the week before Start, as OpenMetrics text
// for `promtool tsdb create-blocks-from openmetrics`
// (cluster.BackfillPrometheus), and NewCollector serves the live value from
// Start on. With the labels Prometheus attaches when it scrapes the exporter
// (cluster.ScrapeLabels), the backfilled and the scraped samples form one
// series.
//
// The command in cmd/loadexporter wires this to flags.
package loadexporter
