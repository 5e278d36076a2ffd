package prometheus

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Reader is what the decision controller reads from Prometheus: instant
// values of many workloads' expressions at once, a history for a warm start,
// and per-pod CPU usage for workloads without a metric. *Client implements
// it; fake.Reader stands in for it in controller tests.
//
// Every method answers for the time it is given, never the clock. Errors
// wrap the sentinels below, so a caller tells an outage (hold the last
// decision, say so) from bad input (report it on the workload) with
// errors.Is; messages name the expression.
type Reader interface {
	// Instant evaluates each expression at `at` and returns one Result per
	// expression, in order: results[i] answers exprs[i], and a failure of
	// one expression never fails another. An expression must give one
	// number: a scalar, or a vector of exactly one series. Requests are
	// batched (see the package doc), so the cost of a call grows with the
	// number of distinct expressions divided by Config.MaxBatch.
	Instant(ctx context.Context, exprs []string, at time.Time) []Result
	// Range evaluates each expression at every step from `from` to `to`
	// (both included, aligned to from) and returns one Series per
	// expression, in order. A step with no value is absent from Points, not
	// zero: gaps stay gaps. An expression with no value at any step has no
	// Points and no error (a workload with no history yet). Requests are
	// chunked under Prometheus' 11,000 points per series.
	Range(ctx context.Context, exprs []string, from, to time.Time, step time.Duration) []Series
	// PodCPU returns the CPU usage of every pod in the namespaces, one entry
	// per pod with a fresh sample, sorted by namespace and pod. A pod with
	// no sample newer than Config.MaxSampleAge is left out, which the
	// HPA-compatible path treats as a missing metric. The error is for the
	// whole call (Prometheus unreachable); no pods is not an error.
	PodCPU(ctx context.Context, namespaces []string, at time.Time) ([]PodCPU, error)
}

// Sample is one value at one time.
type Sample struct {
	At    time.Time
	Value float64
}

// Result answers one expression of Instant. When Err is nil, Value is a
// finite number evaluated at the time asked, and At is the newest raw sample
// behind it: the latest sample of any of the selectors under a range
// (rate(x[5m])), or the time asked when there is none (a plain selector's
// samples are at most a scrape old, or Prometheus has marked them stale).
// When Err is not nil, Sample is zero and Err wraps one of ErrBadExpression,
// ErrManySeries, ErrEmpty, ErrStale, ErrNotFinite or ErrUnavailable.
type Result struct {
	Expr string
	Sample
	Err error
}

// Series answers one expression of Range: Points in time order, one per
// step that had a finite value (a NaN or infinite step is a gap too). Err
// wraps ErrBadExpression, ErrManySeries or ErrUnavailable.
type Series struct {
	Expr   string
	Points []Sample
	Err    error
}

// PodCPU is one pod's CPU usage.
type PodCPU struct {
	Namespace, Pod string
	// Cores is the pod's containers' CPU use, in cores, averaged over
	// Config.CPURateWindow ending at the time asked.
	Cores float64
	// At is the newest raw sample behind Cores.
	At time.Time
}

// The kinds of failure. Each Result, Series or error wraps exactly one.
var (
	// ErrBadExpression: the expression does not parse, is not a number
	// (a range vector or a string), or Prometheus failed to evaluate it
	// (e.g. many-to-many matching). Retrying will not help; the workload's
	// annotation needs fixing.
	ErrBadExpression = errors.New("bad expression")
	// ErrManySeries: a vector of more than one series where one number is
	// expected, usually a missing sum() or a too-loose label matcher.
	ErrManySeries = errors.New("many series where one is expected")
	// ErrEmpty: the expression has no value now: no series match, or they
	// went stale (Prometheus marks a series stale when its target or the
	// series disappears, and it then leaves instant results at once).
	ErrEmpty = errors.New("no value")
	// ErrStale: a value, but none of the selectors under a range has a raw
	// sample newer than Config.MaxSampleAge: rate(x[5m]) keeps a value for
	// up to 5 minutes after x's target went away.
	ErrStale = errors.New("stale samples")
	// ErrNotFinite: the value is NaN or infinite, e.g. a division by zero
	// when traffic is idle.
	ErrNotFinite = errors.New("not a finite number")
	// ErrUnavailable: Prometheus could not answer: connection refused, a
	// timeout, an overloaded or failing server, a bad token.
	ErrUnavailable = errors.New("prometheus unavailable")
)

// ExprError is a failure of one expression; it names the expression.
type ExprError struct {
	Expr string
	// Err wraps one of the sentinels with the detail.
	Err error
}

func (e *ExprError) Error() string { return fmt.Sprintf("prometheus query %q: %v", e.Expr, e.Err) }

func (e *ExprError) Unwrap() error { return e.Err }

// exprErr builds an ExprError whose Err wraps kind with detail.
func exprErr(expr string, kind error, format string, args ...any) *ExprError {
	if format == "" {
		return &ExprError{Expr: expr, Err: kind}
	}
	return &ExprError{Expr: expr, Err: fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)}
}
