package requestsim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/trimtab-dev/trimtab/decider/requests"
)

// Trace is one container's usage over time.
type Trace struct {
	Samples []requests.Sample
	// Provisioned is what the workload was given by hand (the static
	// baseline); zero when the trace does not say.
	Provisioned requests.Resources
	// Unprovisioned counts Bitbrains rows skipped because the VM did not
	// exist yet (or any more): zero cores, zero capacity and zero usage.
	// They are gaps, not samples of an idle container.
	Unprovisioned int
}

// errUnprovisioned marks a Bitbrains row of a VM that had no CPU or memory
// provisioned at that time; Parse skips and counts it.
var errUnprovisioned = errors.New("the VM is not provisioned in this row")

// Parse reads a usage trace in one of two forms, chosen by the header:
//
//   - Bitbrains (GWA-T-12), ';'-separated: Unix seconds, CPU cores, CPU
//     capacity provisioned [MHz], CPU usage [MHz], CPU usage [%], memory
//     capacity provisioned [KB], memory usage [KB], ...; CPU usage becomes
//     cores as usage MHz / (capacity MHz / cores), memory KB x 1024.
//   - plain "timestamp,cpu,memory": timestamp as Unix seconds or RFC 3339,
//     cpu in cores or as a Kubernetes quantity ("250m"), memory in bytes or
//     as a quantity ("512Mi").
//
// Blank lines are skipped, and so are Bitbrains rows of a VM that was not
// provisioned then (all zero; counted in Trace.Unprovisioned). Everything else that is wrong is an error naming
// the line, the column, the value and what is accepted: malformed numbers,
// missing columns, negative, NaN or infinite usage (or usage, once
// converted to cores or bytes, beyond what a Kubernetes quantity holds),
// timestamps that do not increase or fall
// outside requests.MinSampleTime..MaxSampleTime (a Unix-milliseconds column
// is named as such). Gaps in time are allowed (the replay does not count
// them).
func Parse(r io.Reader) (Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var (
		tr     Trace
		header string
		line   int
		last   time.Time
	)
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if header == "" {
			header = text
			if !strings.Contains(strings.ToLower(text), "timestamp") {
				return Trace{}, fmt.Errorf("line %d: header %q: want a Bitbrains header (Timestamp;CPU cores;...) or \"timestamp,cpu,memory\"", line, clip(text))
			}
			continue
		}
		var (
			s    requests.Sample
			prov requests.Resources
			err  error
		)
		if strings.Contains(header, ";") {
			s, prov, err = parseBitbrains(text)
		} else {
			s, err = parsePlain(text)
		}
		if errors.Is(err, errUnprovisioned) {
			tr.Unprovisioned++
			continue
		}
		if err != nil {
			return Trace{}, fmt.Errorf("line %d: %w", line, err)
		}
		if !last.IsZero() && !s.Time.After(last) {
			return Trace{}, fmt.Errorf("line %d: timestamp %s is not after the previous row's %s; rows must be in increasing time order", line, s.Time.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
		}
		last = s.Time
		if prov.CPU > 0 {
			tr.Provisioned.CPU = math.Max(tr.Provisioned.CPU, prov.CPU)
		}
		if prov.Memory > 0 {
			tr.Provisioned.Memory = math.Max(tr.Provisioned.Memory, prov.Memory)
		}
		tr.Samples = append(tr.Samples, s)
	}
	if err := sc.Err(); err != nil {
		return Trace{}, fmt.Errorf("reading usage after line %d: %w", line, err)
	}
	if header == "" {
		return Trace{}, fmt.Errorf("usage trace is empty: want a header and at least two rows")
	}
	if len(tr.Samples) < 2 {
		return Trace{}, fmt.Errorf("usage trace has %d data rows: want at least two", len(tr.Samples))
	}
	return tr, nil
}

func parseBitbrains(text string) (requests.Sample, requests.Resources, error) {
	f := strings.Split(text, ";")
	if len(f) < 7 {
		return requests.Sample{}, requests.Resources{}, fmt.Errorf("%d columns: the Bitbrains format has at least 7 (timestamp .. memory usage)", len(f))
	}
	names := []string{"timestamp", "CPU cores", "CPU capacity provisioned [MHZ]", "CPU usage [MHZ]", "", "Memory capacity provisioned [KB]", "Memory usage [KB]"}
	v := make([]float64, 7)
	for i := range v {
		if names[i] == "" {
			continue
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(f[i]), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			return requests.Sample{}, requests.Resources{}, fmt.Errorf("column %d (%s) %q: want a finite number >= 0", i+1, names[i], clip(f[i]))
		}
		v[i] = x
	}
	if v[1] == 0 && v[2] == 0 && v[3] == 0 && v[5] == 0 && v[6] == 0 {
		return requests.Sample{}, requests.Resources{}, errUnprovisioned
	}
	if v[1] <= 0 || v[2] <= 0 {
		return requests.Sample{}, requests.Resources{}, fmt.Errorf("CPU cores %v, capacity %v MHz: both must be positive to convert MHz to cores", v[1], v[2])
	}
	at, err := unixTime(v[0], strings.TrimSpace(f[0]))
	if err != nil {
		return requests.Sample{}, requests.Resources{}, err
	}
	s := requests.Sample{Time: at, CPU: v[3] / (v[2] / v[1]), Memory: v[6] * 1024}
	prov := requests.Resources{CPU: v[1], Memory: v[5] * 1024}
	// Each column is finite, but the conversions can still leave the range
	// of a Kubernetes quantity (or overflow).
	for _, c := range []struct {
		col        int
		value, max float64
		unit       string
	}{{4, s.CPU, requests.MaxCPU, "cores"}, {6, prov.Memory, requests.MaxMemory, "bytes"}, {7, s.Memory, requests.MaxMemory, "bytes"}} {
		if c.value > c.max {
			return requests.Sample{}, requests.Resources{}, fmt.Errorf("column %d (%s) %q: %g %s, more than the %g a Kubernetes quantity holds", c.col, names[c.col-1], clip(f[c.col-1]), c.value, c.unit, c.max)
		}
	}
	return s, prov, nil
}

// y2000: a Unix column that is milliseconds since then reads as seconds
// far past year 9999.
var y2000 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// unixTime converts Unix seconds to a time inside the range the model
// accepts, naming the value and, for a value that is plausible as
// milliseconds since 2000, saying so.
func unixTime(sec float64, text string) (time.Time, error) {
	lo, hi := float64(requests.MinSampleTime.Unix()), float64(requests.MaxSampleTime.Unix())
	if sec < lo || sec > hi {
		hint := ""
		if ms := sec / 1000; ms >= float64(y2000.Unix()) && ms <= hi {
			hint = " (it looks like milliseconds)"
		}
		return time.Time{}, fmt.Errorf("timestamp %q: want Unix seconds from %.0f (%s) to %.0f (%s)%s", clip(text),
			lo, requests.MinSampleTime.Format(time.RFC3339), hi, requests.MaxSampleTime.Format(time.RFC3339), hint)
	}
	return time.Unix(int64(sec), 0).UTC(), nil
}

func parsePlain(text string) (requests.Sample, error) {
	f := strings.Split(text, ",")
	if len(f) != 3 {
		return requests.Sample{}, fmt.Errorf("%d columns %q: want timestamp,cpu,memory", len(f), clip(text))
	}
	var s requests.Sample
	ts := strings.TrimSpace(f[0])
	var err error
	if sec, perr := strconv.ParseInt(ts, 10, 64); perr == nil {
		if s.Time, err = unixTime(float64(sec), ts); err != nil {
			return requests.Sample{}, err
		}
	} else if t, perr := time.Parse(time.RFC3339, ts); perr == nil {
		s.Time = t.UTC()
		if s.Time.Before(requests.MinSampleTime) || s.Time.After(requests.MaxSampleTime) {
			return requests.Sample{}, fmt.Errorf("timestamp %q: want a time from %s to %s", clip(ts), requests.MinSampleTime.Format(time.RFC3339), requests.MaxSampleTime.Format(time.RFC3339))
		}
	} else {
		return requests.Sample{}, fmt.Errorf("timestamp %q: want Unix seconds or RFC 3339", clip(ts))
	}
	if s.CPU, err = quantity(f[1], "cpu", "cores or a quantity like 250m", requests.MaxCPU); err != nil {
		return requests.Sample{}, err
	}
	if s.Memory, err = quantity(f[2], "memory", "bytes or a quantity like 512Mi", requests.MaxMemory); err != nil {
		return requests.Sample{}, err
	}
	return s, nil
}

// quantity parses a plain number or a Kubernetes quantity, from 0 to max.
func quantity(s, name, want string, max float64) (float64, error) {
	s = strings.TrimSpace(s)
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		q, qerr := resource.ParseQuantity(s)
		if qerr != nil {
			return 0, fmt.Errorf("%s %q: want %s", name, clip(s), want)
		}
		x = q.AsApproximateFloat64()
	}
	if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
		return 0, fmt.Errorf("%s %q: want a finite value >= 0 (%s)", name, clip(s), want)
	}
	if x > max {
		return 0, fmt.Errorf("%s %q: more than the %g a Kubernetes quantity holds (%s)", name, clip(s), max, want)
	}
	return x, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
