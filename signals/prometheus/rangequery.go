package prometheus

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// MaxPointsPerSeries is Prometheus' limit on the steps of one range query
// ("exceeded maximum resolution of 11,000 points per timeseries"); Range cuts
// longer spans into chunks under it.
// https://github.com/prometheus/prometheus/blob/v2.42.0/web/api/v1/api.go#L430
const MaxPointsPerSeries = 11_000

// maxRangeSamples bounds the samples one range request returns (about 30
// bytes of JSON each): a week at one-minute steps is 10,081 points, so a
// request carries ~50 expressions' histories and ~15 MB.
const maxRangeSamples = 500_000

// rangeUnit is one distinct expression of a Range call.
type rangeUnit struct {
	expr   string
	c      compiled
	points []Sample
	many   map[string]bool // label sets seen, to report many series
	err    error
}

// Range implements Reader.
func (c *Client) Range(ctx context.Context, exprs []string, from, to time.Time, step time.Duration) []Series {
	out := make([]Series, len(exprs))
	if step <= 0 || to.Before(from) {
		for i, e := range exprs {
			out[i] = Series{Expr: e, Err: exprErr(e, ErrBadExpression, "range %s to %s at step %s is empty", from, to, step)}
		}
		return out
	}
	byExpr := map[string]*rangeUnit{}
	var units []*rangeUnit
	for _, e := range exprs {
		if byExpr[e] != nil {
			continue
		}
		u := &rangeUnit{expr: e, c: c.cache.get(e), many: map[string]bool{}}
		byExpr[e] = u
		if u.c.err != nil {
			u.err = u.c.err
			continue
		}
		units = append(units, u)
	}
	chunks := rangeChunks(from, to, step)
	perRequest := max(1, maxRangeSamples/min(MaxPointsPerSeries, int(to.Sub(from)/step)+1))
	for _, ch := range chunks {
		// Units that failed in an earlier chunk are not asked again.
		var live []*rangeUnit
		for _, u := range units {
			if u.err == nil {
				live = append(live, u)
			}
		}
		batches := pack(live, min(perRequest, c.cfg.MaxRangeBatch), c.cfg.MaxBatchBytes,
			func(u *rangeUnit) int { return part{tag: "v000", vector: u.c.vector}.cost() })
		fanOut(c.cfg.Concurrency, batches, func(b []*rangeUnit) {
			bisect(ctx, b,
				func(ctx context.Context, us []*rangeUnit) (bool, error) { return c.rangeBatch(ctx, us, ch) },
				func(u *rangeUnit, err error) { u.err = &ExprError{Expr: u.expr, Err: err} })
		})
	}
	for i, e := range exprs {
		u := byExpr[e]
		s := Series{Expr: e, Err: u.err}
		if u.err == nil {
			sort.Slice(u.points, func(a, b int) bool { return u.points[a].At.Before(u.points[b].At) })
			s.Points = u.points
		}
		out[i] = s
	}
	return out
}

// rangeChunks cuts [from, to] into ranges of at most MaxPointsPerSeries
// steps, aligned to from, that neither overlap nor leave a step out.
func rangeChunks(from, to time.Time, step time.Duration) []promv1.Range {
	var out []promv1.Range
	for start := from; !start.After(to); {
		end := start.Add(time.Duration(MaxPointsPerSeries-1) * step)
		if end.After(to) {
			end = start.Add(to.Sub(start) / step * step)
		}
		out = append(out, promv1.Range{Start: start, End: end, Step: step})
		start = end.Add(step)
	}
	return out
}

// rangeBatch evaluates units over one chunk in one request and appends the
// points to each unit.
func (c *Client) rangeBatch(ctx context.Context, units []*rangeUnit, r promv1.Range) (fault bool, err error) {
	parts := make([]part, len(units))
	for i, u := range units {
		parts[i] = part{tag: tag("v", i), vector: u.c.vector}
	}
	v, _, _, err := c.api.QueryRange(ctx, join(parts), r, promv1.WithTimeout(c.cfg.Timeout))
	if err != nil {
		return classify(err)
	}
	got, err := splitMatrix(v)
	if err != nil {
		return false, err
	}
	for i, u := range units {
		for _, s := range got[tag("v", i)] {
			u.many[s.Metric.String()] = true
			for _, p := range s.Values {
				val := float64(p.Value)
				if math.IsNaN(val) || math.IsInf(val, 0) {
					continue // a gap: the value is unusable, not zero
				}
				u.points = append(u.points, Sample{At: p.Timestamp.Time(), Value: val})
			}
		}
		if len(u.many) > 1 {
			u.err = exprErr(u.expr, ErrManySeries, "%d series over the range, e.g. %s; aggregate them, e.g. sum(...)", len(u.many), firstKeys(u.many, 3))
			u.points = nil
		}
	}
	return false, nil
}

func firstKeys(m map[string]bool, n int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > n {
		keys = append(keys[:n], "…")
	}
	return fmt.Sprint(keys)
}
