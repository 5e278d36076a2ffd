package prometheus

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkSync is one sync's instant reads against the real Prometheus:
// n workloads, each with its own expression over its own series, in the
// common shape sum(rate(x{...}[1m])) (plus a constant, so each workload's
// value is its index). Each
// iteration runs the batched client (defaults), the batched client without
// the staleness probes, and the unbatched baseline (MaxBatch 1, same
// concurrency) in turn, and reports each one's requests, bytes and wall
// time, and the ratios to the baseline.
//
//	go test ./signals/prometheus -run '^$' -bench Sync -benchtime 2x
func BenchmarkSync(b *testing.B) {
	f := sharedFixture(b)
	f.ready(b)
	for _, n := range []int{1_000, 10_000} {
		exprs := make([]string, n)
		for i := range exprs {
			exprs[i] = `sum(rate(trimtab_bench_load{workload="w` + strconv.Itoa(i) + `"}[1m])) + ` + strconv.Itoa(i)
		}
		b.Run("workloads="+strconv.Itoa(n), func(b *testing.B) {
			variants := []struct {
				name string
				cfg  Config
			}{
				{"batched", Config{}},
				{"noprobe", Config{MaxSampleAge: -1}},
				{"unbatched", Config{MaxBatch: 1}},
			}
			type tally struct {
				wall time.Duration
				st   Stats
			}
			tallies := make([]tally, len(variants))
			clients := make([]*Client, len(variants))
			for i, v := range variants {
				clients[i] = f.client(b, v.cfg)
			}
			b.ResetTimer()
			for range b.N {
				for i, c := range clients {
					before := c.Stats()
					start := time.Now()
					rs := c.Instant(context.Background(), exprs, time.Now())
					tallies[i].wall += time.Since(start)
					after := c.Stats()
					tallies[i].st.Requests += after.Requests - before.Requests
					tallies[i].st.BytesSent += after.BytesSent - before.BytesSent
					tallies[i].st.BytesReceived += after.BytesReceived - before.BytesReceived
					for j, r := range rs {
						if r.Err != nil || r.Value != float64(j) {
							b.Fatalf("%s: %s = %v, %v", variants[i].name, r.Expr, r.Value, r.Err)
						}
					}
				}
			}
			per := func(x int64) float64 { return float64(x) / float64(b.N) }
			for i, v := range variants {
				t := tallies[i]
				b.ReportMetric(per(t.st.Requests), v.name+"-req/op")
				b.ReportMetric(per(t.wall.Milliseconds()), v.name+"-ms/op")
				b.ReportMetric(per(t.st.BytesSent)/1024, v.name+"-KiB-sent/op")
				b.ReportMetric(per(t.st.BytesReceived)/1024, v.name+"-KiB-recv/op")
			}
			base := tallies[len(tallies)-1]
			b.ReportMetric(float64(base.st.Requests)/float64(tallies[0].st.Requests), "req-ratio")
			b.ReportMetric(float64(base.wall)/float64(tallies[0].wall), "time-ratio")
		})
	}
}

// BenchmarkWarmStart reads a week of one-minute history (10,081 points per
// series) for one workload and for 50, as a first sight of each would.
//
//	go test ./signals/prometheus -run '^$' -bench WarmStart -benchtime 3x
func BenchmarkWarmStart(b *testing.B) {
	f := sharedFixture(b)
	from, to := f.weekEnd.Add(-7*24*time.Hour), f.weekEnd
	for _, n := range []int{1, historyWorkloads} {
		exprs := make([]string, n)
		for i := range exprs {
			exprs[i] = `trimtab_history_load{workload="h` + strconv.Itoa(i) + `"}`
		}
		for _, batch := range []int{1, 50} {
			b.Run("workloads="+strconv.Itoa(n)+"/batch="+strconv.Itoa(batch), func(b *testing.B) {
				c := f.client(b, Config{MaxRangeBatch: batch})
				b.ResetTimer()
				points := 0
				for range b.N {
					for _, s := range c.Range(context.Background(), exprs, from, to, time.Minute) {
						if s.Err != nil {
							b.Fatal(s.Err)
						}
						points += len(s.Points)
					}
				}
				st := c.Stats()
				b.ReportMetric(float64(st.Requests)/float64(b.N), "req/op")
				b.ReportMetric(float64(st.BytesReceived)/float64(b.N)/(1<<20), "MiB-recv/op")
				b.ReportMetric(float64(points)/float64(b.N), "points/op")
			})
		}
	}
}

// BenchmarkBatchSize is one sync of 10,000 workloads at several batch
// sizes, with and without the staleness probes, to choose the defaults.
//
//	go test ./signals/prometheus -run '^$' -bench BatchSize -benchtime 1x
func BenchmarkBatchSize(b *testing.B) {
	f := sharedFixture(b)
	f.ready(b)
	exprs := make([]string, benchWorkloads)
	for i := range exprs {
		exprs[i] = `sum(rate(trimtab_bench_load{workload="w` + strconv.Itoa(i) + `"}[1m])) + ` + strconv.Itoa(i)
	}
	for _, probe := range []bool{true, false} {
		for _, n := range []int{50, 100, 250, 500} {
			cfg := Config{MaxBatch: n, MaxBatchBytes: 4 << 20}
			if !probe {
				cfg.MaxSampleAge = -1
			}
			b.Run("probe="+strconv.FormatBool(probe)+"/batch="+strconv.Itoa(n), func(b *testing.B) {
				c := f.client(b, cfg)
				for range b.N {
					for _, r := range c.Instant(context.Background(), exprs, time.Now()) {
						if r.Err != nil {
							b.Fatal(r.Err)
						}
					}
				}
				b.ReportMetric(float64(c.Stats().Requests)/float64(b.N), "req/op")
			})
		}
	}
}
