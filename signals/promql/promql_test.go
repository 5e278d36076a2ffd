package promql

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		expr string
		typ  parser.ValueType
		err  string
	}{
		{expr: `sum(rate(http_requests_total{app="shop"}[1m]))`, typ: Vector},
		{expr: `histogram_quantile(0.95, sum by (le) (rate(db_bucket[5m])))`, typ: Vector},
		{expr: `500`, typ: Scalar},
		{expr: `scalar(up) * 2`, typ: Scalar},
		{expr: `x[5m]`, err: "is a range vector; give one number per evaluation, e.g. sum(rate(x[5m]))"},
		{expr: `"text"`, err: "is a string"},
		{expr: `sum(rate(x[1m])`, err: "1:16: parse error: unclosed left parenthesis"},
		{expr: `rate(x)`, err: "expected type range vector in call to function \"rate\", got instant vector"},
		{expr: `sum(x) by`, err: "parse error"},
		{expr: `up{a="b}`, err: "unterminated quoted string"},
		{expr: ``, err: "no expression found in input"},
	} {
		typ, err := Check(c.expr)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Check(%q) = %v, want an error containing %q", c.expr, err, c.err)
			}
			continue
		}
		if err != nil || typ != c.typ {
			t.Errorf("Check(%q) = %s, %v; want %s", c.expr, typ, err, c.typ)
		}
	}
}
