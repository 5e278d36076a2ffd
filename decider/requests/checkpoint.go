package requests

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/trimtab-dev/trimtab/decider/requests/histogram"
)

// checkpointMagic starts every container checkpoint ("tt" + version 4;
// version 2 added the calibration scores, version 3 the remembered leak
// raise and the CPU calibration, version 4 two more hours in the hourly
// ring). Versions 2 and 3 are still read.
var checkpointMagic = []byte{'t', 't', 4}

// MarshalBinary encodes the whole model compactly so a restart loses
// nothing: both histograms (histogram.AppendCheckpoint), the running memory
// peak, the hourly ring of the leak detector (float32) and the remembered
// OOM and leak raise, and the calibration scores behind the learned memory
// margin. A week-old container takes about 2 KiB; the bound is under 6 KiB.
func (c *Container) MarshalBinary() ([]byte, error) {
	b := append([]byte(nil), checkpointMagic...)
	for _, t := range []time.Time{c.first, c.last, c.peakStart, c.oomAt, c.leakAt} {
		b = binary.AppendVarint(b, unixOrZero(t))
	}
	b = binary.AppendVarint(b, c.samples)
	for _, v := range []float64{c.peak, c.oomFloor, c.base, c.leakFloor, c.cpuBase} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	b = binary.AppendVarint(b, c.hours.last)
	if c.hours.last != 0 {
		b = c.hours.appendSlots(b)
	}
	b = c.cpu.AppendCheckpoint(b)
	b = c.mem.AppendCheckpoint(b)
	b = c.ratio.AppendCheckpoint(b)
	b = c.cpuRatio.AppendCheckpoint(b)
	return b, nil
}

// RestoreContainer decodes a checkpoint written by MarshalBinary into a model
// with the given configuration (which must use the same memory interval and
// half-life as the one that wrote it; the histograms carry no config).
func RestoreContainer(cfg Config, data []byte) (*Container, error) {
	c, err := NewContainer(cfg)
	if err != nil {
		return nil, err
	}
	if len(data) < len(checkpointMagic) || string(data[:2]) != string(checkpointMagic[:2]) || data[2] < 2 || data[2] > 4 {
		return nil, fmt.Errorf("container checkpoint: does not start with %q (version 4, 3 or 2)", checkpointMagic)
	}
	version := data[2]
	v3 := version >= 3
	d := data[len(checkpointMagic):]
	ts := make([]int64, 4, 5)
	if v3 {
		ts = ts[:5]
	}
	for i := range ts {
		v, k := binary.Varint(d)
		if k <= 0 {
			return nil, fmt.Errorf("container checkpoint: truncated in the timestamps")
		}
		if v != 0 && (v < MinSampleTime.Unix() || v > MaxSampleTime.Unix()) {
			return nil, fmt.Errorf("container checkpoint: timestamp %d: want 0 (unset) or Unix seconds from %s to %s", v, MinSampleTime.Format(time.RFC3339), MaxSampleTime.Format(time.RFC3339))
		}
		ts[i], d = v, d[k:]
	}
	c.first, c.last, c.peakStart, c.oomAt = fromUnix(ts[0]), fromUnix(ts[1]), fromUnix(ts[2]), fromUnix(ts[3])
	if v3 {
		c.leakAt = fromUnix(ts[4])
	}
	v, k := binary.Varint(d)
	if k <= 0 || v < 0 {
		return nil, fmt.Errorf("container checkpoint: bad sample count")
	}
	c.samples, d = v, d[k:]
	floats := []*float64{&c.peak, &c.oomFloor, &c.base}
	if v3 {
		floats = append(floats, &c.leakFloor, &c.cpuBase)
	}
	if len(d) < 8*len(floats) {
		return nil, fmt.Errorf("container checkpoint: truncated before the memory peak")
	}
	for i, f := range floats {
		*f = math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:]))
		if !validUsage(*f) {
			return nil, fmt.Errorf("container checkpoint: memory peak, OOM floor, calibration bases or leak floor %v is not a finite value >= 0", *f)
		}
	}
	d = d[8*len(floats):]
	if c.hours.last, k = binary.Varint(d); k <= 0 {
		return nil, fmt.Errorf("container checkpoint: truncated before the hourly ring")
	}
	d = d[k:]
	if last := c.hours.last; last < 0 || last > unixHour(MaxSampleTime) {
		return nil, fmt.Errorf("container checkpoint: hourly ring ends at Unix hour %d: want 0 (empty) or 1..%d", last, unixHour(MaxSampleTime))
	} else if last != 0 {
		n := ringHours
		if version < 4 {
			n = weekHours
		}
		if d, err = c.hours.restoreSlots(last, n, d); err != nil {
			return nil, fmt.Errorf("container checkpoint: %w", err)
		}
	}
	if c.cpu, d, err = histogram.RestoreDecaying(histogram.CPU, cfg.HalfLife, d); err != nil {
		return nil, fmt.Errorf("container checkpoint, cpu histogram: %w", err)
	}
	if c.mem, d, err = histogram.RestoreDecaying(histogram.Memory, cfg.HalfLife, d); err != nil {
		return nil, fmt.Errorf("container checkpoint, memory histogram: %w", err)
	}
	if c.ratio, d, err = histogram.RestoreDecaying(ratioBuckets, calibrationHalfLife(cfg), d); err != nil {
		return nil, fmt.Errorf("container checkpoint, calibration scores: %w", err)
	}
	if v3 {
		if c.cpuRatio, d, err = histogram.RestoreDecaying(ratioBuckets, calibrationHalfLife(cfg), d); err != nil {
			return nil, fmt.Errorf("container checkpoint, CPU calibration scores: %w", err)
		}
	}
	if len(d) != 0 {
		return nil, fmt.Errorf("container checkpoint: %d unexpected trailing bytes", len(d))
	}
	return c, nil
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
