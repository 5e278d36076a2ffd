package file

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trimtab-dev/trimtab/prices"
)

// layout describes where the fields of one recorded format are.
type layout struct {
	name                              string
	zone, typ, product, price, ts, od int // column indexes; od is -1 when absent
}

var layouts = []struct {
	header []string
	layout layout
}{
	{
		header: []string{"AvailabilityZone", "InstanceType", "ProductDescription", "SpotPrice", "Timestamp"},
		layout: layout{name: "ec2-export", zone: 0, typ: 1, product: 2, price: 3, ts: 4, od: -1},
	},
	{
		header: []string{"timestamp", "region", "availability_zone", "instance_type", "os", "spot_price_usd_per_hour", "ondemand_price_usd_per_hour"},
		layout: layout{name: "2015", zone: 2, typ: 3, product: 4, price: 5, ts: 0, od: 6},
	},
}

// timeLayouts are the timestamp spellings seen in the traces.
var timeLayouts = []string{time.RFC3339, "2006-01-02 15:04:05-07:00", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05"}

// ReadFile reads one trace file, plain or gzip.
func ReadFile(path string) ([]prices.History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading price trace: %w", err)
	}
	defer f.Close()
	hs, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("reading price trace %s: %w", path, err)
	}
	return hs, nil
}

// ReadFiles reads several traces and merges them; a market that appears in
// two files is an error, since its points would interleave ambiguously.
func ReadFiles(paths []string) ([]prices.History, error) {
	all, _, err := ReadFilesSources(paths)
	return all, err
}

// ReadFilesSources is ReadFiles that also says which file each market came
// from, for a report or a plot that names it.
func ReadFilesSources(paths []string) ([]prices.History, map[prices.Market]string, error) {
	var all []prices.History
	seen := map[prices.Market]string{}
	for _, p := range paths {
		hs, err := ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		for _, h := range hs {
			if prev, dup := seen[h.Market]; dup {
				return nil, nil, fmt.Errorf("market %s appears in both %s and %s", h.Market, prev, p)
			}
			seen[h.Market] = p
		}
		all = append(all, hs...)
	}
	prices.SortHistories(all)
	return all, seen, nil
}

// Read parses one trace from r, gunzipping it first when it starts with the
// gzip magic bytes.
func Read(r io.Reader) ([]prices.History, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("opening gzip stream: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty file: want a CSV header")
	}
	if err != nil {
		return nil, fmt.Errorf("line 1: %w", err)
	}
	header = append([]string(nil), header...) // ReuseRecord reuses the slice
	lay, err := detect(header)
	if err != nil {
		return nil, err
	}
	byMarket := map[prices.Market]*prices.History{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		m, pt, od, err := parseRow(lay, header, rec)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		h := byMarket[m]
		if h == nil {
			h = &prices.History{Market: m, OnDemand: od}
			byMarket[m] = h
		} else if od != h.OnDemand {
			return nil, fmt.Errorf("line %d: on-demand price %v for %s differs from %v earlier in the file", line, od, m, h.OnDemand)
		}
		h.Points = append(h.Points, pt)
	}
	if len(byMarket) == 0 {
		return nil, errors.New("no price rows after the header")
	}
	out := make([]prices.History, 0, len(byMarket))
	for _, h := range byMarket {
		sort.SliceStable(h.Points, func(i, j int) bool { return h.Points[i].Time.Before(h.Points[j].Time) })
		out = append(out, *h)
	}
	prices.SortHistories(out)
	return out, nil
}

func detect(header []string) (layout, error) {
	for _, l := range layouts {
		if len(header) != len(l.header) {
			continue
		}
		match := true
		for i := range header {
			if strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")) != l.header[i] {
				match = false
				break
			}
		}
		if match {
			return l.layout, nil
		}
	}
	return layout{}, fmt.Errorf("unknown header %q: want %q or %q", strings.Join(header, ","),
		strings.Join(layouts[0].header, ","), strings.Join(layouts[1].header, ","))
}

func parseRow(l layout, header, rec []string) (prices.Market, prices.Point, float64, error) {
	var zero prices.Market
	m := prices.Market{InstanceType: rec[l.typ], Zone: rec[l.zone], Product: prices.NormalizeProduct(rec[l.product])}
	for _, i := range []int{l.typ, l.zone, l.product} {
		if strings.TrimSpace(rec[i]) == "" {
			return zero, prices.Point{}, 0, fmt.Errorf("column %s is empty", header[i])
		}
	}
	price, err := parsePrice(header[l.price], rec[l.price])
	if err != nil {
		return zero, prices.Point{}, 0, err
	}
	t, err := parseTime(rec[l.ts])
	if err != nil {
		return zero, prices.Point{}, 0, fmt.Errorf("column %s: %w", header[l.ts], err)
	}
	od := 0.0
	if l.od >= 0 {
		if od, err = parsePrice(header[l.od], rec[l.od]); err != nil {
			return zero, prices.Point{}, 0, err
		}
	}
	return m, prices.Point{Time: t, Price: price}, od, nil
}

func parsePrice(col, v string) (float64, error) {
	p, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
		return 0, fmt.Errorf("column %s: %q is not a price; want a non-negative decimal in USD per hour", col, v)
	}
	return p, nil
}

func parseTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	for _, tl := range timeLayouts {
		if t, err := time.Parse(tl, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp; want RFC 3339 (2020-07-31T11:24:57+00:00) or 2015-03-11 16:54:38+00:00", v)
}

// Source serves recorded histories as a prices.Source, e.g. for the demo.
type Source struct {
	Histories []prices.History
	// AsOf is reported as the refresh time; the recording's last point.
	AsOf time.Time
}

// NewSource reads the files and returns a Source over them.
func NewSource(paths ...string) (*Source, error) {
	hs, err := ReadFiles(paths)
	if err != nil {
		return nil, err
	}
	var last time.Time
	for _, h := range hs {
		if n := len(h.Points); n > 0 && h.Points[n-1].Time.After(last) {
			last = h.Points[n-1].Time
		}
	}
	return &Source{Histories: hs, AsOf: last}, nil
}

// Snapshot returns, for every market, the point in force at since and all
// later points.
func (s *Source) Snapshot(_ context.Context, since time.Time) (prices.Snapshot, error) {
	out := make([]prices.History, 0, len(s.Histories))
	for _, h := range s.Histories {
		i := sort.Search(len(h.Points), func(i int) bool { return !h.Points[i].Time.Before(since) })
		// Keep the point in force at since, as the EC2 source does.
		if i > 0 && (i == len(h.Points) || h.Points[i].Time.After(since)) {
			i--
		}
		out = append(out, prices.History{Market: h.Market, OnDemand: h.OnDemand, Points: h.Points[i:]})
	}
	return prices.Snapshot{Histories: out, AsOf: s.AsOf}, nil
}
