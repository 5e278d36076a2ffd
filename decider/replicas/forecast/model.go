package forecast

import (
	"fmt"
	"math"
	"time"
	"unsafe"
)

// Config sets the model's resolution and learning rates.
type Config struct {
	// Bucket is the profile resolution; 24h must be a multiple of it.
	Bucket time.Duration
	// Lead is how far ahead forecasts are scored to learn the error band:
	// start-up delay plus horizon.
	Lead time.Duration
	// ProfileAlpha is the EWMA weight of a new day in a profile slot.
	ProfileAlpha float64
	// LevelAlpha is the EWMA weight (in log space) of a new bucket in the
	// level ratio.
	LevelAlpha float64
	// ErrorHalfLife is the half-life of the error histograms and of the
	// arms' scores, in minutes of samples: a sample weighs its interval in
	// minutes (see sampleWeight), so a 5- or 30-minute series forgets at
	// the pace a 1-minute one does.
	ErrorHalfLife float64
	// TrailWindow is the span of the nowcast arm's trailing mean (0: no
	// nowcast arm, the seasonal model alone).
	TrailWindow time.Duration
	// TrailLag is how far ahead the nowcast's band is scored: from the
	// newest sample to the far end of what a decision sizes for.
	TrailLag time.Duration
	// SeasonalFloor keeps the nowcast's upper bound at or above the
	// seasonal arm's point forecast.
	SeasonalFloor bool
}

// DefaultConfig is the configuration chosen by replay on the shared traces
// (see docs/replicas.md). Lead and TrailLag follow from the control loop's
// timing: replicas.Config.SetTiming sets them, and the values here are what
// it sets for upstream's defaults.
func DefaultConfig() Config {
	return Config{Bucket: 5 * time.Minute, Lead: 690 * time.Second, ProfileAlpha: 0.3, LevelAlpha: 0.5, ErrorHalfLife: 2880,
		TrailWindow: 15 * time.Minute, TrailLag: 255 * time.Second, SeasonalFloor: true}
}

// Validate reports a configuration the model cannot run with.
func (c Config) Validate() error {
	switch {
	case c.Bucket < time.Minute || (24*time.Hour)%c.Bucket != 0:
		return fmt.Errorf("forecast bucket %s: must be ≥ 1m and divide 24h", c.Bucket)
	case c.Lead < 0:
		return fmt.Errorf("forecast lead %s: must be ≥ 0", c.Lead)
	case c.ProfileAlpha <= 0 || c.ProfileAlpha > 1 || c.LevelAlpha <= 0 || c.LevelAlpha > 1:
		return fmt.Errorf("forecast alphas %g, %g: must be in (0, 1]", c.ProfileAlpha, c.LevelAlpha)
	case c.ErrorHalfLife <= 0:
		return fmt.Errorf("forecast error half-life %g: must be > 0", c.ErrorHalfLife)
	case c.TrailWindow < 0 || c.TrailLag < 0:
		return fmt.Errorf("forecast trail window %s / lag %s: must be ≥ 0", c.TrailWindow, c.TrailLag)
	}
	return nil
}

// MaxLoad is the largest sample Observe learns from; a larger one is a
// gap. No load signal comes near it (a trillion requests a minute is
// 10¹²), and the bound keeps every value the model derives from samples
// far inside float32, so no profile slot or ring entry can overflow to
// +Inf and make the model's checkpoint unreadable.
const MaxLoad = 1e30

const (
	// minLevel and maxLevel clamp a bucket's actual / profile ratio before
	// it enters the level ratio, which therefore stays within them.
	minLevel, maxLevel float64 = 0.05, 20
	// minDayFactor and maxDayFactor clamp a day-of-week factor.
	minDayFactor, maxDayFactor float64 = 0.2, 5
)

const (
	hoursKept = 21 * 24 // three weeks of hourly means for period detection
	errBins   = 96
	errLo     = -2.4 // log ratio range of the error histogram
	errStep   = 0.05
	levelRing = 32
	// errClasses splits the error histogram by the forecast's level relative
	// to the day's mean (quiet, below, above, busy): relative noise is larger
	// at night than at the peak, and one pooled band would over-provision
	// the peak, where capacity costs most.
	errClasses = 4
)

// Period is the seasonality the model detected.
type Period uint8

// Detected periods.
const (
	None Period = iota
	Daily
	Weekly
)

// String names the period.
func (p Period) String() string {
	return [...]string{"none", "daily", "weekly"}[p]
}

// Model is one workload's forecaster state. The zero value is not usable;
// call New.
type Model struct {
	cfg       Config
	slots     int // buckets per day
	day       []float32
	dayN      []uint8
	dow       [7]float32 // day-of-week factor, 1 = average day
	dowN      [7]uint8
	dayTot    [2]float64 // actual and profile sums of the current day
	dayIdx    int64
	hourly    [hoursKept]float32
	hourAt    int64 // hour index of hourly's newest entry + 1
	hourFirst int64
	hourAcc   [2]float64
	hourCur   int64
	cur       int64 // current bucket index (Unix / bucket)
	acc       float64
	accN      int
	level     float64
	levels    [levelRing]float32           // level at the close of bucket i, ring by index
	errH      [errClasses][errBins]float32 // by load class, see class
	errW      [errClasses]float64
	daySum    float64 // sum of day, for the class boundaries
	decay     float32
	buckets   int // closed buckets with data
	period    Period
	started   bool

	// Nowcast arm (nowcast.go).
	trail      [trailCap]tsample // the newest samples and their trailing means
	trailN     int               // samples observed (the ring's next slot)
	trailH     [errClasses][errBins]float32
	trailW     [errClasses]float64
	cost       [2]float64 // decaying headroom of the seasonal and nowcast arms
	costW      float64
	useNowcast bool
}

// New returns an empty model.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	slots := int(24 * time.Hour / cfg.Bucket)
	m := &Model{cfg: cfg, slots: slots, day: make([]float32, slots), dayN: make([]uint8, slots), level: 1,
		decay: float32(math.Exp2(-1 / cfg.ErrorHalfLife))}
	for i := range m.dow {
		m.dow[i] = 1
	}
	return m, nil
}

// Period is the seasonality detected so far.
func (m *Model) Period() Period { return m.period }

// Warm reports whether the model has seen enough (a day of buckets and a
// detected daily period) to forecast; before that callers fall back to the
// reactive path.
func (m *Model) Warm() bool { return m.buckets >= m.slots && m.period != None }

// StateBytes is the model's memory footprint, for the ≤ 32 KiB budget.
func (m *Model) StateBytes() int {
	return int(unsafe.Sizeof(*m)) + len(m.day)*4 + len(m.dayN)
}

func (m *Model) bucket(t time.Time) int64 { return t.Unix() / int64(m.cfg.Bucket/time.Second) }

func (m *Model) slotOf(b int64) int { return int(b % int64(m.slots)) }

// weekday of bucket b (UTC; the Unix epoch was a Thursday).
func (m *Model) weekdayOf(b int64) int { return int((b/int64(m.slots) + 4) % 7) }

// base is the seasonal expectation for bucket b before the level ratio.
func (m *Model) base(b int64) float64 {
	s := m.slotOf(b)
	if m.dayN[s] == 0 {
		return 0
	}
	v := float64(m.day[s])
	if m.period == Weekly {
		v *= float64(m.dow[m.weekdayOf(b)])
	}
	return v
}

// Observe feeds one sample (load averaged over the sample's interval) at t.
// NaN, negative and absurd (over MaxLoad) values are gaps; samples must
// come in time order, and an older one is ignored.
func (m *Model) Observe(t time.Time, v float64) {
	if !(v >= 0 && v <= MaxLoad) {
		return
	}
	b := m.bucket(t)
	if !m.started {
		m.started, m.cur, m.dayIdx, m.hourCur = true, b, b/int64(m.slots), t.Unix()/3600
	}
	if b < m.cur {
		return
	}
	w := m.sampleWeight(t.Unix())
	m.holdPrevious(t.Unix(), b)
	if b > m.cur {
		m.closeBucket()
		m.cur = b
	}
	m.acc += v
	m.accN++
	m.scoreSample(b, v, w)
	m.observeNowcast(t.Unix(), v, b, w)
	m.addHourly(t.Unix()/3600, v)
}

func (m *Model) closeBucket() {
	if m.accN == 0 {
		return
	}
	mean := m.acc / float64(m.accN)
	m.acc, m.accN = 0, 0
	b := m.cur
	s := m.slotOf(b)
	base := m.base(b)
	if base > 0 {
		r := math.Min(math.Max(mean/base, minLevel), maxLevel)
		// A mean of ratios within [minLevel, maxLevel] stays within them;
		// the clamp only removes exp∘log's rounding at the ends, so a
		// checkpoint can hold the level to that range exactly.
		m.level = math.Min(math.Max(math.Exp((1-m.cfg.LevelAlpha)*math.Log(m.level)+m.cfg.LevelAlpha*math.Log(r)), minLevel), maxLevel)
	}
	// Profile slot update, robust to outliers: a value outside [1/3, 3] ×
	// the slot is clipped to that range and enters with half the weight, so
	// a surge moves tomorrow's profile by at most ~1.3×, while a lasting
	// shift still gets through in a few days (and at once through the level
	// ratio). A tighter clip ([1/2, 2], a third of the weight) was tried: it
	// widened the bands on WC98's growth (+75% vs +25% replica-hours over
	// the HPA), so it was dropped.
	v := mean
	if m.period == Weekly {
		v /= float64(m.dow[m.weekdayOf(b)])
	}
	m.daySum -= float64(m.day[s])
	if m.dayN[s] == 0 {
		m.day[s] = float32(v)
	} else {
		old := float64(m.day[s])
		a := m.cfg.ProfileAlpha
		if old > 0 && (v > 3*old || v < old/3) {
			v = math.Min(math.Max(v, old/3), old*3)
			a /= 2
		}
		m.day[s] = float32((1-a)*old + a*v)
	}
	m.daySum += float64(m.day[s])
	m.dayN[s] = uint8(min(int(m.dayN[s])+1, 255))
	m.levels[b%levelRing] = float32(m.level)
	m.buckets++
	m.trackDay(b, mean, float64(m.day[s]))
}

// trackDay learns the day-of-week factors: a finished day's total over its
// profile total.
func (m *Model) trackDay(b int64, actual, profile float64) {
	d := b / int64(m.slots)
	if d != m.dayIdx {
		if m.dayTot[1] > 0 && m.dayTot[0] > 0 {
			w := m.weekdayOf(m.dayIdx * int64(m.slots))
			f := m.dayTot[0] / m.dayTot[1]
			if m.period == Weekly {
				f *= float64(m.dow[w])
			}
			f = math.Min(math.Max(f, minDayFactor), maxDayFactor)
			if m.dowN[w] == 0 {
				m.dow[w] = float32(f)
			} else {
				m.dow[w] = float32(0.7*float64(m.dow[w]) + 0.3*f)
			}
			m.dowN[w]++
		}
		m.dayIdx, m.dayTot = d, [2]float64{}
		m.detect()
	}
	m.dayTot[0] += actual
	m.dayTot[1] += profile
}

// Forecast returns the point forecast and the q-quantile upper bound for the
// load at t, or ok=false while the model is cold.
func (m *Model) Forecast(t time.Time, q float64) (point, upper float64, ok bool) {
	if !m.Warm() {
		return 0, 0, false
	}
	base := m.base(m.bucket(t))
	if m.useNowcast {
		// The recent mean cannot see a ramp coming; the profile can. Its
		// expectation floors the upper bound, so a daily surge the profile
		// knows is sized for before it starts.
		point, upper, ok = m.nowcast(q)
		if ok && m.cfg.SeasonalFloor && m.seasonalTrusted() {
			upper = math.Max(upper, base*m.level)
		}
		return point, upper, ok
	}
	if base <= 0 {
		return 0, 0, false
	}
	point = base * m.level
	return point, point * math.Exp(m.errQuantile(m.class(base), q)), true
}

// Clone returns an independent copy (for fan-out in replays and benchmarks).
func (m *Model) Clone() *Model {
	c := *m
	c.day = append([]float32(nil), m.day...)
	c.dayN = append([]uint8(nil), m.dayN...)
	return &c
}
