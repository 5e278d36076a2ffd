package prometheus

import (
	"sort"
	"sync"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/trimtab-dev/trimtab/signals/promql"
)

// compiled is what the batcher needs to know about one expression before
// sending it.
type compiled struct {
	// vector is the expression as an instant vector: the expression itself,
	// or vector(expr) for a scalar, which label_replace cannot take.
	vector string
	// selectors are the expression's series selectors that sit under a
	// range (rate(x[5m]), a subquery), without offset or @, printed, sorted
	// and unique: their newest samples say whether the value is fresh.
	// Plain selectors need no check: Prometheus drops a series from instant
	// results as soon as it marks it stale, and a range keeps using the
	// samples in its window.
	selectors []string
	// err is set when the expression cannot be sent (ErrBadExpression).
	err error
}

func compile(expr string) compiled {
	e, err := promql.Parse(expr)
	if err != nil {
		return compiled{err: exprErr(expr, ErrBadExpression, "%v", err)}
	}
	c := compiled{vector: expr}
	if e.Type() == promql.Scalar {
		c.vector = "vector(" + expr + "\n)" // the newline ends a # comment
	}
	seen := map[string]bool{}
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && underRange(path) {
			s := (&parser.VectorSelector{Name: vs.Name, LabelMatchers: vs.LabelMatchers}).String()
			if !seen[s] {
				seen[s] = true
				c.selectors = append(c.selectors, s)
			}
		}
		return nil
	})
	sort.Strings(c.selectors)
	return c
}

// underRange reports whether a selector's path passes through a range: a
// matrix selector or a subquery.
func underRange(path []parser.Node) bool {
	for _, n := range path {
		switch n.(type) {
		case *parser.MatrixSelector, *parser.SubqueryExpr:
			return true
		}
	}
	return false
}

// compileCache remembers compiled expressions: a controller sends the same
// few thousand expressions every sync, and parsing is the batcher's main
// CPU cost. It forgets everything when full, so churned expressions cannot
// grow it without bound.
type compileCache struct {
	mu sync.Mutex
	m  map[string]compiled
}

const compileCacheSize = 100_000

func (cc *compileCache) get(expr string) compiled {
	cc.mu.Lock()
	c, ok := cc.m[expr]
	cc.mu.Unlock()
	if ok {
		return c
	}
	c = compile(expr)
	cc.mu.Lock()
	if cc.m == nil || len(cc.m) >= compileCacheSize {
		cc.m = map[string]compiled{}
	}
	cc.m[expr] = c
	cc.mu.Unlock()
	return c
}
