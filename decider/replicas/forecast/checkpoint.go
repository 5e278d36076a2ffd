package forecast

import (
	"fmt"
	"math"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas/internal/wire"
)

// checkpointMagic starts a forecaster checkpoint: "tf" and the layout
// version. The version is bumped whenever the layout, or a constant that
// sizes it (hoursKept, errBins, errClasses, levelRing, trailCap), changes;
// older checkpoints are then refused by name, never misread.
var checkpointMagic = [...]byte{'t', 'f', 1}

// maxCount bounds the sample and bucket counters a checkpoint may hold:
// more than a sample a second for 285 million years, and far from the
// overflow that would turn a counter (and the ring index derived from it)
// negative.
const maxCount = 1 << 53

// MarshalBinary encodes everything the model has learned, in a versioned
// little-endian layout:
//
//	"tf" 1                  magic and version
//	bucket                  uvarint, nanoseconds
//	flags, period           2 bytes (1 started, 2 forecasting with the recent mean)
//	counters                8 varints: open bucket, its day, open hour, hourly ring end,
//	                        first hour, closed buckets, samples in the open bucket, nowcast samples
//	sums                    18 float64: open bucket sum, level, profile sum, day totals (2),
//	                        open hour sum and count, arm costs (2) and weight, error weights (4+4)
//	profile                 float32 and uint8 count per slot (24h / bucket slots)
//	day of week             7 float32 factors, 7 uint8 counts
//	levels                  32 float32 (ring by bucket)
//	hourly means            504 float32 (ring by Unix hour; NaN marks a gap)
//	error histograms        2 arms × 4 classes × 96 float32
//	nowcast ring            64 × (varint Unix second, float32 sample, float32 mean)
//
// The arrays are stored as they are, float32 bits included, so a restored
// model forecasts exactly what the original would: the profile, rings and
// histograms are most of the ~7.5 KiB (the hourly ring is full from the
// third week on, and a decayed histogram keeps every bin it ever touched,
// so a sparse or windowed layout would not lower the size the budget is
// set by). The configuration is not stored (Restore takes it), nor the
// decay factor, which follows from it. MarshalBinary runs Restore's checks
// first, so it never writes a checkpoint that cannot be read back; Observe
// keeps the model within them (see MaxLoad).
func (m *Model) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(make([]byte, 0, m.checkpointSize()))
}

// AppendBinary appends the checkpoint MarshalBinary returns to b.
func (m *Model) AppendBinary(b []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("forecast checkpoint: %w", err)
	}
	return m.appendTo(b), nil
}

// appendTo encodes the model without checking it.
func (m *Model) appendTo(b []byte) []byte {
	w := wire.NewWriter(b)
	w.Raw(checkpointMagic[:])
	w.Uvarint(uint64(m.cfg.Bucket))
	var flags byte
	if m.started {
		flags |= flagStarted
	}
	if m.useNowcast {
		flags |= flagNowcast
	}
	w.Byte(flags)
	w.Byte(byte(m.period))
	for _, v := range []int64{m.cur, m.dayIdx, m.hourCur, m.hourAt, m.hourFirst, int64(m.buckets), int64(m.accN), int64(m.trailN)} {
		w.Varint(v)
	}
	for _, v := range m.sums() {
		w.Float64(*v)
	}
	w.Float32s(m.day)
	w.Raw(m.dayN)
	w.Float32s(m.dow[:])
	w.Raw(m.dowN[:])
	w.Float32s(m.levels[:])
	w.Float32s(m.hourly[:])
	for c := range errClasses {
		w.Float32s(m.errH[c][:])
	}
	for c := range errClasses {
		w.Float32s(m.trailH[c][:])
	}
	for _, s := range m.trail {
		w.Varint(s.t)
		w.Float32s([]float32{s.v, s.mean})
	}
	b, _ = w.Bytes() // only Time and Int32 can fail, and none is written
	return b
}

const (
	flagStarted = 1 << iota
	flagNowcast
)

// sums are the model's float64 fields, in checkpoint order.
func (m *Model) sums() [18]*float64 {
	return [...]*float64{&m.acc, &m.level, &m.daySum, &m.dayTot[0], &m.dayTot[1], &m.hourAcc[0], &m.hourAcc[1],
		&m.cost[0], &m.cost[1], &m.costW,
		&m.errW[0], &m.errW[1], &m.errW[2], &m.errW[3], &m.trailW[0], &m.trailW[1], &m.trailW[2], &m.trailW[3]}
}

// checkpointSize is an upper bound of the checkpoint's length, to allocate once.
func (m *Model) checkpointSize() int {
	return len(checkpointMagic) + 10 + 2 + 8*10 + 18*8 + 5*m.slots + 7*5 + 4*(levelRing+hoursKept+2*errClasses*errBins) + trailCap*(10+8)
}

// Restore decodes a checkpoint written by MarshalBinary into a model
// running with cfg. The configuration is not in the checkpoint; cfg must
// have the Bucket the checkpoint was made with, or the profile's slots
// would not line up with the times of day they learned, and Restore refuses
// it (start a fresh model instead). Every other field may change across a
// restart: Lead, TrailLag, the alphas and SeasonalFloor only steer what is
// learned next; ErrorHalfLife sets the decay from now on (the histograms
// keep their weights); a new TrailWindow applies to the trailing means
// from the next sample, and TrailWindow 0 turns the recent-mean arm off,
// so Restore then forecasts with the seasonal arm, as a model that never
// had the recent mean would.
//
// Every value is checked: the header and version, the bucket, each counter
// against its range (a negative one would index the rings before their
// start), the period, and each float against NaN and Inf (NaN is allowed
// only where it marks a gap in the hourly ring) and its sign. Truncated
// input or trailing bytes are an error; none of these panics.
func Restore(cfg Config, data []byte) (*Model, error) {
	m, err := New(cfg)
	if err != nil {
		return nil, fmt.Errorf("forecast checkpoint: %w", err)
	}
	if err := m.decode(data); err != nil {
		return nil, fmt.Errorf("forecast checkpoint: %w", err)
	}
	if cfg.TrailWindow <= 0 {
		m.useNowcast = false
	}
	return m, nil
}

func (m *Model) decode(data []byte) error {
	r := wire.NewReader(data)
	var magic [len(checkpointMagic)]byte
	r.Raw(magic[:], "header")
	if err := r.Err(); err != nil {
		return err
	}
	if magic[0] != checkpointMagic[0] || magic[1] != checkpointMagic[1] {
		return fmt.Errorf("header %q: not a forecaster checkpoint (want %q)", magic[:2], checkpointMagic[:2])
	}
	if magic[2] != checkpointMagic[2] {
		return fmt.Errorf("version %d: this build reads version %d only; start a fresh model", magic[2], checkpointMagic[2])
	}
	bucket := r.Uvarint("bucket")
	if r.Err() == nil && bucket != uint64(m.cfg.Bucket) {
		return fmt.Errorf("made with a %s bucket, the config has %s: the profile's slots would not line up; keep the bucket or start a fresh model",
			time.Duration(min(bucket, math.MaxInt64)), m.cfg.Bucket)
	}
	flags := r.Byte("flags")
	period := r.Byte("period")
	m.cur = r.Varint("open bucket")
	m.dayIdx = r.Varint("day index")
	m.hourCur = r.Varint("open hour")
	m.hourAt = r.Varint("hourly ring end")
	m.hourFirst = r.Varint("first hour")
	buckets := r.Varint("closed bucket count")
	accN := r.Varint("open bucket sample count")
	trailN := r.Varint("nowcast sample count")
	for _, v := range m.sums() {
		*v = r.Float64("sums")
	}
	r.Float32s(m.day, "profile")
	r.Raw(m.dayN, "profile counts")
	r.Float32s(m.dow[:], "day-of-week factors")
	r.Raw(m.dowN[:], "day-of-week counts")
	r.Float32s(m.levels[:], "level ring")
	r.Float32s(m.hourly[:], "hourly ring")
	for c := range errClasses {
		r.Float32s(m.errH[c][:], "seasonal error histograms")
	}
	for c := range errClasses {
		r.Float32s(m.trailH[c][:], "recent-mean error histograms")
	}
	var vm [2]float32
	for i := range m.trail {
		m.trail[i].t = r.Varint("nowcast ring")
		r.Float32s(vm[:], "nowcast ring")
		m.trail[i].v, m.trail[i].mean = vm[0], vm[1]
	}
	if err := r.Done(); err != nil {
		return err
	}
	if flags&^(flagStarted|flagNowcast) != 0 {
		return fmt.Errorf("flags %#x: unknown bits (want %#x at most)", flags, flagStarted|flagNowcast)
	}
	m.started, m.useNowcast = flags&flagStarted != 0, flags&flagNowcast != 0
	if Period(period) > Weekly {
		return fmt.Errorf("period %d: want 0 (none), 1 (daily) or 2 (weekly)", period)
	}
	m.period = Period(period)
	m.buckets, m.accN, m.trailN = int(buckets), int(accN), int(trailN)
	return m.check()
}

// check reports the first value a running model could not hold: it runs
// on every restore and before every checkpoint is written.
func (m *Model) check() error {
	bucketSec := int64(m.cfg.Bucket / time.Second)
	maxBucket, maxHour := wire.MaxUnix/bucketSec, int64(wire.MaxUnix/3600+1)
	switch {
	case m.cur < 0 || m.cur > maxBucket:
		return fmt.Errorf("open bucket %d: want 0..%d (1970 to 9999)", m.cur, maxBucket)
	case m.dayIdx < 0 || m.dayIdx > m.cur/int64(m.slots):
		return fmt.Errorf("day index %d: want 0..%d (the open bucket's day)", m.dayIdx, m.cur/int64(m.slots))
	case m.hourCur < 0 || m.hourCur > maxHour:
		return fmt.Errorf("open hour %d: want 0..%d (1970 to 9999)", m.hourCur, maxHour)
	case m.hourAt < 0 || m.hourAt > maxHour:
		return fmt.Errorf("hourly ring end %d: want 0..%d (1970 to 9999)", m.hourAt, maxHour)
	case m.hourFirst < 0 || m.hourFirst > maxHour || (m.hourAt == 0 && m.hourFirst != 0):
		return fmt.Errorf("first hour %d: want 0..%d, and 0 while the hourly ring (end %d) is empty", m.hourFirst, maxHour, m.hourAt)
	case m.buckets < 0 || m.buckets > maxCount:
		return fmt.Errorf("closed bucket count %d: want 0..%d", m.buckets, int64(maxCount))
	case m.accN < 0 || m.accN > maxCount:
		return fmt.Errorf("open bucket sample count %d: want 0..%d", m.accN, int64(maxCount))
	case m.trailN < 0 || m.trailN > maxCount:
		return fmt.Errorf("nowcast sample count %d: want 0..%d (the nowcast ring's position)", m.trailN, int64(maxCount))
	case m.period > Weekly:
		return fmt.Errorf("period %d: want 0 (none), 1 (daily) or 2 (weekly)", m.period)
	case !sumOf(m.acc, float64(m.accN)):
		return fmt.Errorf("open bucket sum %v with %d samples: want 0..samples × %g", m.acc, m.accN, MaxLoad)
	case !sumOf(m.hourAcc[0], m.hourAcc[1]):
		return fmt.Errorf("open hour sum %v with %v samples: want 0..samples × %g", m.hourAcc[0], m.hourAcc[1], MaxLoad)
	case !inRange(m.level, minLevel, maxLevel):
		return fmt.Errorf("level ratio %v: want %g..%g", m.level, minLevel, maxLevel)
	case !finite(m.daySum):
		return fmt.Errorf("profile sum %v: want a finite value", m.daySum)
	case !finite(m.cost[0]) || !finite(m.cost[1]) || !nonNeg(m.costW):
		return fmt.Errorf("arm costs %v, %v, weight %v: want finite values, the weight ≥ 0", m.cost[0], m.cost[1], m.costW)
	}
	for i, v := range [...]float64{m.dayTot[0], m.dayTot[1], m.hourAcc[1]} {
		if !nonNeg(v) {
			return fmt.Errorf("%s %v: want a finite value ≥ 0", [...]string{"day's actual total", "day's profile total", "open hour count"}[i], v)
		}
	}
	for c := range errClasses {
		if !nonNeg(m.errW[c]) || !nonNeg(m.trailW[c]) {
			return fmt.Errorf("error weights of class %d: %v (seasonal), %v (recent mean): want finite values ≥ 0", c, m.errW[c], m.trailW[c])
		}
	}
	for i, v := range m.day {
		if !inRange(float64(v), 0, maxKept) || (m.dayN[i] == 0 && v != 0) {
			return fmt.Errorf("profile slot %d (%s UTC): %v with %d updates: want 0..%g, and 0 before the first update",
				i, time.Time{}.Add(time.Duration(i)*m.cfg.Bucket).Format("15:04"), v, m.dayN[i], maxKept)
		}
	}
	for i, v := range m.dow {
		if !inRange(float64(v), minDayFactor, maxDayFactor) {
			return fmt.Errorf("day-of-week factor %s: %v: want %g..%g", time.Weekday(i), v, minDayFactor, maxDayFactor)
		}
	}
	for i, v := range m.levels {
		if v != 0 && !inRange(float64(v), minLevel, maxLevel) {
			return fmt.Errorf("level ring slot %d: %v: want 0 (unset) or %g..%g", i, v, minLevel, maxLevel)
		}
	}
	for i, v := range m.hourly {
		if !math.IsNaN(float64(v)) && !inRange(float64(v), 0, maxKept) {
			return fmt.Errorf("hourly ring slot %d: %v: want 0..%g or NaN (a gap)", i, v, maxKept)
		}
	}
	for c := range errClasses {
		for j := range errBins {
			if !nonNeg(float64(m.errH[c][j])) || !nonNeg(float64(m.trailH[c][j])) {
				return fmt.Errorf("error histogram bin %d of class %d: %v (seasonal), %v (recent mean): want finite values ≥ 0", j, c, m.errH[c][j], m.trailH[c][j])
			}
		}
	}
	for i, s := range m.trail {
		if s.t < 0 || s.t > wire.MaxUnix || !inRange(float64(s.v), 0, maxKept) || !inRange(float64(s.mean), 0, maxKept) {
			return fmt.Errorf("nowcast ring slot %d: Unix second %d, sample %v, mean %v: want a time in 1970..9999 and values in 0..%g", i, s.t, s.v, s.mean, maxKept)
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// nonNeg is a finite value ≥ 0 (NaN fails the comparison).
func nonNeg(v float64) bool { return v >= 0 && !math.IsInf(v, 1) }

// inRange is lo ≤ v ≤ hi (NaN fails).
func inRange(v, lo, hi float64) bool { return v >= lo && v <= hi }

// sumOf says sum can be the float64 sum of n samples of at most MaxLoad
// (with room for its rounding).
func sumOf(sum, n float64) bool { return n >= 0 && sum >= 0 && sum <= n*MaxLoad*(1+1e-9) }

// maxKept bounds the loads the model stores: a profile slot is a mean of
// samples (≤ MaxLoad) over a day-of-week factor (≥ minDayFactor), and the
// rings hold samples and their means. Twice that, so that every update
// from values within these bounds stays within them, float32 rounding
// included, and a model that restores also checkpoints after it learns.
const maxKept = 2 * MaxLoad / minDayFactor
