package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// tagLabel marks which sub-expression of a batched query a series answers.
// The double underscore keeps it clear of user labels.
const tagLabel = "__trimtab_q"

// part is one sub-expression of a batched query: an instant vector and the
// tag its series will carry.
type part struct{ tag, vector string }

// String is the part as PromQL: label_replace with an empty source label
// and an empty regex matches every series and sets tagLabel to the tag.
// Adding one constant label to a vector keeps its series distinct, so it
// never fails an expression that worked alone. The newline after the
// expression ends a trailing # comment, which would otherwise swallow the
// rest of the batch (found by FuzzCompile).
func (p part) String() string {
	return "label_replace(" + p.vector + "\n" + `, "` + tagLabel + `", "` + p.tag + `", "", "")`
}

// cost is what the part adds to a form-encoded request body: the escaped
// text and the escaped " or " joining it.
func (p part) cost() int { return len(url.QueryEscape(p.String())) + len("+or+") + len("%28%29") }

// join joins parts with `or` as a balanced tree: `(a or b) or (c or d)`.
// Prometheus evaluates `or` by hashing the left side's label sets, so a
// left-deep chain of n parts hashes O(n²) series; a balanced tree hashes
// O(n log n). Distinct tags mean `or` never drops a series.
func join(parts []part) string {
	switch len(parts) {
	case 0:
		return "vector(0) unless vector(0)" // an empty vector; never sent
	case 1:
		return parts[0].String()
	}
	var b strings.Builder
	var rec func(ps []part)
	rec = func(ps []part) {
		if len(ps) == 1 {
			b.WriteString(ps[0].String())
			return
		}
		b.WriteByte('(')
		rec(ps[:len(ps)/2])
		b.WriteString(" or ")
		rec(ps[len(ps)/2:])
		b.WriteByte(')')
	}
	rec(parts)
	return b.String()
}

// split groups a vector's samples by tag, dropping the tag label.
func splitVector(v model.Value) (map[string][]*model.Sample, error) {
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("%w: batched query returned a %s, want a vector", ErrUnavailable, v.Type())
	}
	out := map[string][]*model.Sample{}
	for _, s := range vec {
		tag := string(s.Metric[tagLabel])
		delete(s.Metric, tagLabel)
		out[tag] = append(out[tag], s)
	}
	return out, nil
}

// splitMatrix groups a matrix's streams by tag, dropping the tag label.
func splitMatrix(v model.Value) (map[string][]*model.SampleStream, error) {
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("%w: batched range query returned a %s, want a matrix", ErrUnavailable, v.Type())
	}
	out := map[string][]*model.SampleStream{}
	for _, s := range m {
		tag := string(s.Metric[tagLabel])
		delete(s.Metric, tagLabel)
		out[tag] = append(out[tag], s)
	}
	return out, nil
}

// classify sorts a query error into an expression's fault, which splitting
// the batch can isolate, or Prometheus being unavailable, which it cannot.
// Prometheus answers 400 bad_data for what does not parse and 422 execution
// for what fails to evaluate (many-to-many matching, too many samples);
// timeouts, cancellations, 5xx, other 4xx (a bad token) and transport errors
// are outages. https://prometheus.io/docs/prometheus/latest/querying/api/#format-overview
func classify(err error) (exprFault bool, wrapped error) {
	var apiErr *promv1.Error
	if errors.As(err, &apiErr) && (apiErr.Type == promv1.ErrBadData || apiErr.Type == promv1.ErrExec) {
		return true, fmt.Errorf("%w: %s", ErrBadExpression, apiErr.Msg)
	}
	return false, fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// fanOut runs fn for each batch with at most n in flight.
func fanOut[T any](n int, batches []T, fn func(T)) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, b := range batches {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(b)
		}()
	}
	wg.Wait()
}

// pack cuts items into batches of at most maxItems whose costs sum to at
// most maxCost; an item costlier than maxCost goes alone.
func pack[T any](items []T, maxItems, maxCost int, cost func(T) int) [][]T {
	var out [][]T
	var cur []T
	used := 0
	for _, it := range items {
		c := cost(it)
		if len(cur) > 0 && (len(cur) >= maxItems || used+c > maxCost) {
			out = append(out, cur)
			cur, used = nil, 0
		}
		cur = append(cur, it)
		used += c
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// tag names sub-expression i of a batch.
func tag(prefix string, i int) string { return prefix + strconv.Itoa(i) }

// bisect evaluates units with eval; when eval reports an expression's
// fault for a batch of more than one unit, it evaluates each half on its
// own, so one bad expression costs about 2·log2(n) extra requests and fails
// only itself.
func bisect[U any](ctx context.Context, units []U, eval func(context.Context, []U) (fault bool, err error), fail func(U, error)) {
	fault, err := eval(ctx, units)
	if err == nil {
		return
	}
	if !fault || len(units) == 1 || ctx.Err() != nil {
		for _, u := range units {
			fail(u, err)
		}
		return
	}
	bisect(ctx, units[:len(units)/2], eval, fail)
	bisect(ctx, units[len(units)/2:], eval, fail)
}
