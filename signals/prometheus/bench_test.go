package prometheus

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
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

// BenchmarkBatchSize asks Prometheus' own accounting (stats=all,
// execTotalTime) what one sync of 10,000 rate expressions with their
// staleness probes costs it at several batch sizes, requests sent one at a
// time; size 1 sends the first 1,000 expressions and scales by 10. This is
// the measurement behind DefaultMaxBatch: Prometheus 2.42's time per
// expression grows with the batch, so past ~100 batching saves requests but
// costs Prometheus more than it saves.
//
//	go test ./signals/prometheus -run '^$' -bench BatchSize -benchtime 1x
func BenchmarkBatchSize(b *testing.B) {
	f := sharedFixture(b)
	f.ready(b)
	for _, n := range []int{1, 50, 100, 250, 500} {
		b.Run("batch="+strconv.Itoa(n), func(b *testing.B) {
			total := benchWorkloads
			if n == 1 {
				total = 1000
			}
			var exec float64
			var wall time.Duration
			for range b.N {
				start := time.Now()
				for lo := 0; lo < total; lo += n {
					var parts []part
					for i := lo; i < lo+n; i++ {
						sel := `trimtab_bench_load{workload="w` + strconv.Itoa(i) + `"}`
						parts = append(parts,
							part{tag: tag("v", i), vector: `sum(rate(` + sel + `[1m])) + ` + strconv.Itoa(i)},
							part{tag: tag("s", i), vector: probe(sel)})
					}
					exec += execTime(b, f.srv.URL, join(parts))
				}
				wall += time.Since(start)
			}
			scale := float64(benchWorkloads) / float64(total) / float64(b.N)
			b.ReportMetric(exec*scale, "prom-exec-s/sync")
			b.ReportMetric(wall.Seconds()*scale, "wall-s/sync")
			b.ReportMetric(float64(benchWorkloads)/float64(n), "req/sync")
		})
	}
}

// execTime runs q and returns Prometheus' execTotalTime for it, in seconds.
func execTime(tb testing.TB, base, q string) float64 {
	resp, err := http.PostForm(base+"/api/v1/query", url.Values{"query": {q}, "stats": {"all"}})
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Data   struct {
			Stats struct {
				Timings struct {
					ExecTotalTime float64 `json:"execTotalTime"`
				} `json:"timings"`
			} `json:"stats"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		tb.Fatalf("query status %q: %v", r.Status, err)
	}
	return r.Data.Stats.Timings.ExecTotalTime
}
