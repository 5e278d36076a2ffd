package requests

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/trimtab-dev/trimtab/decider/requests/histogram"
)

// checkpointMagic starts every container checkpoint ("tt" + version 3;
// version 2 added the calibration scores, version 3 the remembered leak
// raise and the CPU calibration). Version 2 checkpoints are still read.
var checkpointMagic = []byte{'t', 't', 3}

// MarshalBinary encodes the whole model compactly so a restart loses
// nothing: both histograms (histogram.AppendCheckpoint), the running memory
// peak, the hourly ring of the leak detector (float32) and the remembered
// OOM and leak raise, and the calibration scores behind the learned memory margin. A
// week-old container takes about 2 KiB; the bound is under 5 KiB.
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
		for i := range c.hours.min {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(c.hours.min[i]))
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(c.hours.max[i]))
		}
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
	if len(data) < len(checkpointMagic) || string(data[:2]) != string(checkpointMagic[:2]) || (data[2] != 2 && data[2] != 3) {
		return nil, fmt.Errorf("container checkpoint: does not start with %q (version 3, or 2)", checkpointMagic)
	}
	v3 := data[2] == 3
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
	if c.hours.last != 0 {
		if len(d) < 8*ringHours {
			return nil, fmt.Errorf("container checkpoint: hourly ring truncated (%d of %d bytes)", len(d), 8*ringHours)
		}
		for i := range c.hours.min {
			c.hours.min[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[8*i:]))
			c.hours.max[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[8*i+4:]))
		}
		d = d[8*ringHours:]
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
