// Package fake is a prometheus.Reader for controller tests: answers set per
// expression, a record of every call, and a switch that fails the next call.
package fake

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/trimtab-dev/trimtab/signals/prometheus"
)

// Call records one Reader call.
type Call struct {
	// Method is "Instant", "Range" or "PodCPU".
	Method string
	// Exprs are the expressions (Instant, Range); Namespaces those of PodCPU.
	Exprs, Namespaces []string
	// At is Instant's and PodCPU's time; From, To and Step are Range's.
	At, From, To time.Time
	Step         time.Duration
}

// Reader answers from its fields. The zero value answers every expression
// with prometheus.ErrEmpty, every range with no points and no pods. It is
// safe for concurrent use; set fields before sharing it, or through Set.
type Reader struct {
	mu sync.Mutex
	// Values answer Instant, stamped with the time asked.
	Values map[string]float64
	// Errs answer Instant and Range for an expression, before Values; wrap a
	// sentinel, e.g. fmt.Errorf("%w: boom", prometheus.ErrStale).
	Errs map[string]error
	// History answers Range: the points within [from, to] are returned.
	History map[string][]prometheus.Sample
	// CPU answers PodCPU: the pods in the namespaces asked.
	CPU []prometheus.PodCPU

	calls    []Call
	failNext error
}

var _ prometheus.Reader = (*Reader)(nil)

// Set sets expr's instant value.
func (r *Reader) Set(expr string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Values == nil {
		r.Values = map[string]float64{}
	}
	r.Values[expr] = v
}

// FailNext makes the next call fail as Prometheus being down would: every
// expression (or PodCPU) gets err, which wraps prometheus.ErrUnavailable
// when err is nil.
func (r *Reader) FailNext(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		err = fmt.Errorf("%w: fake: connection refused", prometheus.ErrUnavailable)
	}
	r.failNext = err
}

// Calls returns the calls so far, oldest first.
func (r *Reader) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// record appends c and returns the failure armed by FailNext, disarming it.
func (r *Reader) record(c Call) error {
	r.calls = append(r.calls, c)
	err := r.failNext
	r.failNext = nil
	return err
}

// Instant implements prometheus.Reader.
func (r *Reader) Instant(_ context.Context, exprs []string, at time.Time) []prometheus.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	fail := r.record(Call{Method: "Instant", Exprs: slices.Clone(exprs), At: at})
	out := make([]prometheus.Result, len(exprs))
	for i, e := range exprs {
		out[i].Expr = e
		switch v, ok := r.Values[e]; {
		case fail != nil:
			out[i].Err = &prometheus.ExprError{Expr: e, Err: fail}
		case r.Errs[e] != nil:
			out[i].Err = &prometheus.ExprError{Expr: e, Err: r.Errs[e]}
		case ok:
			out[i].Sample = prometheus.Sample{At: at, Value: v}
		default:
			out[i].Err = &prometheus.ExprError{Expr: e, Err: prometheus.ErrEmpty}
		}
	}
	return out
}

// Range implements prometheus.Reader.
func (r *Reader) Range(_ context.Context, exprs []string, from, to time.Time, step time.Duration) []prometheus.Series {
	r.mu.Lock()
	defer r.mu.Unlock()
	fail := r.record(Call{Method: "Range", Exprs: slices.Clone(exprs), From: from, To: to, Step: step})
	out := make([]prometheus.Series, len(exprs))
	for i, e := range exprs {
		out[i].Expr = e
		switch {
		case fail != nil:
			out[i].Err = &prometheus.ExprError{Expr: e, Err: fail}
		case r.Errs[e] != nil:
			out[i].Err = &prometheus.ExprError{Expr: e, Err: r.Errs[e]}
		default:
			for _, p := range r.History[e] {
				if !p.At.Before(from) && !p.At.After(to) {
					out[i].Points = append(out[i].Points, p)
				}
			}
		}
	}
	return out
}

// PodCPU implements prometheus.Reader.
func (r *Reader) PodCPU(_ context.Context, namespaces []string, at time.Time) ([]prometheus.PodCPU, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.record(Call{Method: "PodCPU", Namespaces: slices.Clone(namespaces), At: at}); err != nil {
		return nil, err
	}
	var out []prometheus.PodCPU
	for _, p := range r.CPU {
		if slices.Contains(namespaces, p.Namespace) {
			out = append(out, p)
		}
	}
	return out, nil
}
