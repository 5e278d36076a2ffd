// Package promql checks trimtab's PromQL annotations with Prometheus' own
// parser (github.com/prometheus/prometheus/promql/parser), the one
// Prometheus runs on every query, so the webhook rejects exactly what
// Prometheus would and the signals batcher knows an expression's type before
// sending it.
//
// It does no I/O, yet it is not in config: the parser's AST refers to
// Prometheus' storage types, whose imports reach tsdb/chunks, tsdb/fileutil
// (mmap'ed files and locks) and client_golang's metrics library, and the
// pure core must import none of those (decider/pure_test.go). So config
// keeps its cheap structural check (quotes, brackets, length) and the I/O
// side, webhook/validating and signals/prometheus, layers this one on it.
package promql

import (
	"fmt"

	"github.com/prometheus/prometheus/promql/parser"
)

// The value types trimtab reads as one number.
const (
	Scalar = parser.ValueTypeScalar
	Vector = parser.ValueTypeVector
)

// prom is the parser with Prometheus' default options (no experimental
// functions); it holds no state between calls and is safe to share.
var prom = parser.NewParser(parser.Options{})

// Parse parses expr and checks that it gives a number: a scalar ("500",
// "scalar(x)") or an instant vector ("sum(rate(x[1m]))"). A range vector
// ("x[5m]") or a string is an error that says what to write instead; a
// parse error is the parser's own message, with line:column.
func Parse(expr string) (parser.Expr, error) {
	e, err := prom.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	switch t := e.Type(); t {
	case Scalar, Vector:
		return e, nil
	case parser.ValueTypeMatrix:
		return nil, fmt.Errorf("is a range vector; give one number per evaluation, e.g. sum(rate(%s))", expr)
	default:
		return nil, fmt.Errorf("is a %s; give a number, e.g. sum(rate(http_requests_total[1m]))", t)
	}
}

// Check is Parse for callers that need only the type.
func Check(expr string) (parser.ValueType, error) {
	e, err := Parse(expr)
	if err != nil {
		return "", err
	}
	return e.Type(), nil
}
