package prometheus

import (
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/trimtab-dev/trimtab/signals/promql"
)

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "token")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Address: ""}, "want an http or https URL with a host"},
		{Config{Address: "prometheus:9090"}, "want an http or https URL"},
		{Config{Address: "ftp://prometheus:9090"}, "want an http or https URL"},
		{Config{Address: "http://%zz"}, "invalid URL escape"},
		{Config{Address: "http://p:9090/?x=1"}, "a query or fragment is not allowed"},
		{Config{Address: "https://p:9090", CAFile: filepath.Join(dir, "missing.crt")}, "reading prometheus CA: open " + dir},
		{Config{Address: "https://p:9090", CAFile: notPEM}, "no PEM certificate"},
		{Config{Address: "https://p:9090", BearerTokenFile: filepath.Join(dir, "missing")}, "reading prometheus bearer token"},
		{Config{Address: "https://p:9090", BearerTokenFile: empty}, "is empty"},
	} {
		_, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v): %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
	if _, err := New(Config{Address: "https://thanos.example/prefix"}); err != nil {
		t.Errorf("a base URL with a path: %v", err)
	}
}

// TestBearerTokenRotates swaps the token file the way the kubelet does
// (a new file renamed over the old) and checks the next request carries
// the new token, and that a file gone missing mid-rotation keeps the last.
func TestBearerTokenRotates(t *testing.T) {
	var got []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__trimtab_q":"v0"},"value":[1,"1"]}]}}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	writeCA(t, ca, srv)
	tokenFile := filepath.Join(dir, "token")
	write := func(tok string) {
		tmp := filepath.Join(dir, "token.tmp")
		if err := os.WriteFile(tmp, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, tokenFile); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	c, err := New(Config{Address: srv.URL, BearerTokenFile: tokenFile, CAFile: ca, MaxSampleAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	ask := func() {
		if r := c.Instant(t.Context(), []string{"vector(1)"}, time.Unix(1, 0))[0]; r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	ask()
	write("second")
	ask()
	if err := os.Remove(tokenFile); err != nil {
		t.Fatal(err)
	}
	ask()
	want := []string{"Bearer first", "Bearer second", "Bearer second"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Authorization headers %q, want %q", got, want)
	}
}

// writeCA writes the test server's certificate as a PEM CA bundle.
func writeCA(t *testing.T, path string, srv *httptest.Server) {
	t.Helper()
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCompile(t *testing.T) {
	for _, c := range []struct {
		expr, vector string
		selectors    []string
		typ          parser.ValueType
		err          string
	}{
		{expr: `sum(rate(http_requests_total{app="shop"}[1m]))`, vector: `sum(rate(http_requests_total{app="shop"}[1m]))`,
			selectors: []string{`http_requests_total{app="shop"}`}, typ: parser.ValueTypeVector},
		{expr: `500`, vector: "vector(500\n)", typ: parser.ValueTypeScalar},
		{expr: `scalar(a) / scalar(b offset 1w)`, vector: "vector(scalar(a) / scalar(b offset 1w)\n)", typ: parser.ValueTypeScalar},
		{expr: `a / on() group_left b @ 100`, vector: `a / on() group_left b @ 100`, typ: parser.ValueTypeVector},
		{expr: `rate(a[5m] offset 1h) / rate(b{x=~"y|z"}[5m] @ 100) + c`, selectors: []string{"a", `b{x=~"y|z"}`}, typ: parser.ValueTypeVector},
		{expr: `max_over_time(rate(x{a="1"}[1m])[10m:1m]) + x{a="1"}`, selectors: []string{`x{a="1"}`}, typ: parser.ValueTypeVector},
		{expr: `x[5m]`, err: "is a range vector"},
		{expr: `"s"`, err: "is a string"},
		{expr: `sum(x`, err: "unclosed left parenthesis"},
		{expr: ``, err: "no expression found"},
	} {
		got := compile(c.expr)
		typ, err := promql.Check(c.expr)
		if c.err != "" {
			if got.err == nil || !errors.Is(got.err, ErrBadExpression) || !strings.Contains(got.err.Error(), c.err) || err == nil {
				t.Errorf("compile(%q): %v, want ErrBadExpression containing %q", c.expr, got.err, c.err)
			}
			continue
		}
		if got.err != nil || err != nil {
			t.Errorf("compile(%q): %v", c.expr, got.err)
			continue
		}
		if c.vector != "" && got.vector != c.vector {
			t.Errorf("compile(%q).vector = %q, want %q", c.expr, got.vector, c.vector)
		}
		if strings.Join(got.selectors, " ") != strings.Join(c.selectors, " ") {
			t.Errorf("compile(%q).selectors = %q, want %q", c.expr, got.selectors, c.selectors)
		}
		if typ != c.typ {
			t.Errorf("Check(%q) = %s, want %s", c.expr, typ, c.typ)
		}
	}
}

func TestJoin(t *testing.T) {
	p := func(tag string) part { return part{tag: tag, vector: "x"} }
	lr := func(tag string) string { return "label_replace(x\n" + `, "__trimtab_q", "` + tag + `", "", "")` }
	for _, c := range []struct {
		parts []part
		want  string
	}{
		{[]part{p("a")}, lr("a")},
		{[]part{p("a"), p("b")}, "(" + lr("a") + " or " + lr("b") + ")"},
		{[]part{p("a"), p("b"), p("c")}, "(" + lr("a") + " or (" + lr("b") + " or " + lr("c") + "))"},
		{[]part{p("a"), p("b"), p("c"), p("d")}, "((" + lr("a") + " or " + lr("b") + ") or (" + lr("c") + " or " + lr("d") + "))"},
	} {
		got := join(c.parts)
		if got != c.want {
			t.Errorf("join(%d parts) = %s\nwant %s", len(c.parts), got, c.want)
		}
		if _, err := promql.Parse(got); err != nil {
			t.Errorf("join(%d parts) does not parse: %v", len(c.parts), err)
		}
	}
}

func TestPack(t *testing.T) {
	cost := func(n int) int { return n }
	for _, c := range []struct {
		items             []int
		maxItems, maxCost int
		want              [][]int
	}{
		{nil, 2, 10, nil},
		{[]int{1, 1, 1, 1, 1}, 2, 10, [][]int{{1, 1}, {1, 1}, {1}}},
		{[]int{4, 4, 4}, 10, 8, [][]int{{4, 4}, {4}}},
		{[]int{20, 1}, 10, 8, [][]int{{20}, {1}}}, // too big for any batch: alone
	} {
		got := pack(c.items, c.maxItems, c.maxCost, cost)
		if len(got) != len(c.want) {
			t.Errorf("pack(%v, %d, %d) = %v, want %v", c.items, c.maxItems, c.maxCost, got, c.want)
			continue
		}
		for i := range got {
			if len(got[i]) != len(c.want[i]) {
				t.Errorf("pack(%v, %d, %d) = %v, want %v", c.items, c.maxItems, c.maxCost, got, c.want)
			}
		}
	}
}

func TestRangeChunks(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		span, step time.Duration
		chunks     int
	}{
		{7 * 24 * time.Hour, time.Minute, 1},              // 10,081 points
		{7 * 24 * time.Hour, 15 * time.Second, 4},         // 40,321
		{10999 * time.Minute, time.Minute, 1},             // exactly 11,000
		{11000 * time.Minute, time.Minute, 2},             // 11,001
		{0, time.Minute, 1},                               // one point
		{7*24*time.Hour + 30*time.Second, time.Minute, 1}, // to is not on a step
	} {
		to := from.Add(c.span)
		chunks := rangeChunks(from, to, c.step)
		if len(chunks) != c.chunks {
			t.Errorf("%s at %s: %d chunks, want %d", c.span, c.step, len(chunks), c.chunks)
		}
		points, next := 0, from
		for _, ch := range chunks {
			if !ch.Start.Equal(next) {
				t.Errorf("%s at %s: chunk starts %s, want %s (no gap, no overlap)", c.span, c.step, ch.Start, next)
			}
			n := int(ch.End.Sub(ch.Start)/c.step) + 1
			if n > MaxPointsPerSeries {
				t.Errorf("chunk of %d points", n)
			}
			points += n
			next = ch.End.Add(c.step)
		}
		if want := int(c.span/c.step) + 1; points != want {
			t.Errorf("%s at %s: %d points in chunks, want %d", c.span, c.step, points, want)
		}
	}
}
