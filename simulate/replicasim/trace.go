package replicasim

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Trace is a regular load series: Values[i] is the load (units per sample
// interval, e.g. requests per minute) during [Start+i·Step, Start+(i+1)·Step).
type Trace struct {
	Start  time.Time
	Step   time.Duration
	Values []float64
	// Gaps counts samples missing from the file. They stay in Values as NaN
	// (documented fallback): the forecaster skips them, the reactive paths
	// see no metric and hold, and scoring leaves them out.
	Gaps int
}

// At is the time of sample i.
func (t Trace) At(i int) time.Time { return t.Start.Add(time.Duration(i) * t.Step) }

// MinTraceSpan is the shortest trace a replay accepts.
const MinTraceSpan = 24 * time.Hour

// maxGapFill bounds how many missing samples one gap may fill, so a wrong
// time column cannot allocate a decade of minutes.
const maxGapFill = 7 * 24 * 60

var timeLayouts = []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04"}

// ParseTime reads RFC3339, "YYYY-MM-DD HH:MM[:SS]" (UTC) or Unix seconds.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1e11 {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC3339, YYYY-MM-DD HH:MM[:SS] or Unix seconds", s)
}

// column resolves a column flag: a header name, or a 1-based index.
func column(spec string, header []string, def int) (int, error) {
	if spec == "" {
		return def, nil
	}
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), spec) {
			return i, nil
		}
	}
	if n, err := strconv.Atoi(spec); err == nil && n >= 1 {
		return n - 1, nil
	}
	return 0, fmt.Errorf("column %q: not a header name (%s) nor a 1-based index", spec, strings.Join(header, ", "))
}

// ParseTrace reads a CSV of (time, value) rows. timeCol and valueCol name a
// header column or a 1-based index; empty means the first and second column.
// A header row is detected by a non-time first cell. Rows must be sorted and
// unique; the step is the smallest spacing and every spacing must be a
// multiple of it.
func ParseTrace(r io.Reader, timeCol, valueCol string) (Trace, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var header []string
	ti, vi := 0, 1
	type row struct {
		t time.Time
		v float64
	}
	var rows []row
	line := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return Trace{}, fmt.Errorf("reading CSV line %d: %w", line, err)
		}
		if line == 1 {
			if len(rec) > 0 {
				if _, err := ParseTime(rec[0]); err != nil || timeCol != "" && !isIndex(timeCol) {
					header = append([]string(nil), rec...)
				}
			}
			if ti, err = column(timeCol, header, 0); err != nil {
				return Trace{}, fmt.Errorf("--time-col: %w", err)
			}
			if vi, err = column(valueCol, header, 1); err != nil {
				return Trace{}, fmt.Errorf("--value-col: %w", err)
			}
			if header != nil {
				continue
			}
		}
		if len(rec) <= max(ti, vi) {
			return Trace{}, fmt.Errorf("line %d: %d columns, need column %d", line, len(rec), max(ti, vi)+1)
		}
		t, err := ParseTime(rec[ti])
		if err != nil {
			return Trace{}, fmt.Errorf("line %d: %w", line, err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[vi]), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return Trace{}, fmt.Errorf("line %d: value %q: want a finite number ≥ 0", line, rec[vi])
		}
		if n := len(rows); n > 0 && !t.After(rows[n-1].t) {
			what := "unsorted"
			if t.Equal(rows[n-1].t) {
				what = "duplicate"
			}
			return Trace{}, fmt.Errorf("line %d: %s timestamp %s (previous row %s); sort the file and drop duplicates", line, what, t.Format(time.RFC3339), rows[n-1].t.Format(time.RFC3339))
		}
		rows = append(rows, row{t, v})
	}
	if len(rows) < 2 {
		return Trace{}, fmt.Errorf("trace has %d data rows: need at least a day of samples", len(rows))
	}
	step := time.Duration(math.MaxInt64)
	for i := 1; i < len(rows); i++ {
		step = min(step, rows[i].t.Sub(rows[i-1].t))
	}
	tr := Trace{Start: rows[0].t, Step: step, Values: make([]float64, 0, len(rows))}
	for i, r := range rows {
		if i > 0 {
			d := r.t.Sub(rows[i-1].t)
			if d%step != 0 {
				return Trace{}, fmt.Errorf("row at %s: spacing %s is not a multiple of the trace step %s; resample to a regular resolution", r.t.Format(time.RFC3339), d, step)
			}
			miss := int(d/step) - 1
			if miss > maxGapFill {
				return Trace{}, fmt.Errorf("row at %s: gap of %s after %s is longer than 7 days", r.t.Format(time.RFC3339), d, rows[i-1].t.Format(time.RFC3339))
			}
			for range miss {
				tr.Values = append(tr.Values, math.NaN())
			}
			tr.Gaps += miss
		}
		tr.Values = append(tr.Values, r.v)
	}
	if tr.Gaps > len(rows)/2 {
		return Trace{}, fmt.Errorf("the step %s inferred from the closest rows leaves %d of %d samples missing; resample to a regular resolution", step, tr.Gaps, len(tr.Values))
	}
	if span := time.Duration(len(tr.Values)) * step; span < MinTraceSpan {
		return Trace{}, fmt.Errorf("trace spans %s: need at least %s to learn a daily period", span, MinTraceSpan)
	}
	return tr, nil
}

func isIndex(s string) bool { _, err := strconv.Atoi(s); return err == nil }
