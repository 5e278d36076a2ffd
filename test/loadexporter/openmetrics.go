package loadexporter

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Series is one replayed load series: its labels (besides the metric name)
// and the replay that gives its value.
type Series struct {
	Labels map[string]string
	Replay Replay
}

// WriteOpenMetrics writes, for each series, the samples its replay plays in
// [from, to) (Replay.SampleTimes: one per trace step, gaps left out) as one
// gauge family called name, in the OpenMetrics text format that `promtool
// tsdb create-blocks-from openmetrics` reads: timestamps in seconds, each
// series' samples in time order (promtool appends them in file order, and
// an earlier sample after a later one of the same series is out of order),
// and a final "# EOF".
//
// extra labels are added to every series; pass the labels Prometheus
// attaches when it scrapes the exporter (job, instance), or the backfilled
// history and the live scrapes are two series. A label in both wins from
// extra.
func WriteOpenMetrics(w io.Writer, name, help string, series []Series, extra map[string]string, from, to time.Time) error {
	if !validName(name) {
		return fmt.Errorf("metric name %q: want [a-zA-Z_:][a-zA-Z0-9_:]*", name)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n", name, escapeHelp(help), name)
	for i, s := range series {
		labels, err := formatLabels(s.Labels, extra)
		if err != nil {
			return fmt.Errorf("series %d: %w", i, err)
		}
		prefix := name + labels + " "
		for _, t := range s.Replay.SampleTimes(from, to) {
			v, ok := s.Replay.Value(t)
			if !ok {
				continue
			}
			bw.WriteString(prefix)
			bw.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			bw.WriteByte(' ')
			bw.WriteString(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64))
			bw.WriteByte('\n')
		}
	}
	bw.WriteString("# EOF\n")
	return bw.Flush()
}

// formatLabels renders {k="v",...} sorted by name, extra overriding labels.
func formatLabels(labels, extra map[string]string) (string, error) {
	all := map[string]string{}
	for k, v := range labels {
		all[k] = v
	}
	for k, v := range extra {
		all[k] = v
	}
	if len(all) == 0 {
		return "", nil
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		if !validName(k) || strings.Contains(k, ":") || strings.HasPrefix(k, "__") {
			return "", fmt.Errorf("label name %q: want [a-zA-Z_][a-zA-Z0-9_]*, not starting with __", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(labelValueEscaper.Replace(all[k]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

// labelValueEscaper escapes what OpenMetrics requires in a label value and
// in HELP text: backslash, double quote and line feed.
var labelValueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeHelp(s string) string { return labelValueEscaper.Replace(s) }

// validName reports whether s is a valid metric name.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
