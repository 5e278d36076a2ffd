package requests

import (
	"fmt"
	"time"
)

// Applied is what a container runs with now and when it last changed.
type Applied struct {
	Requests Resources
	Changed  time.Time
}

// Decide applies hysteresis to a recommendation: it returns the requests the
// container should run with and, when they differ from the applied ones, why
// (an empty reason means "keep"). One change resizes both resources (one
// restart or in-place resize), and only when it is material. The rules are
// VPA's updater rules, plus trimtab's safety-first raise:
//   - nothing applied yet: take the target;
//   - a resource outside [lower, upper], or an urgent (OOM or leak) raise:
//     change now;
//   - a target more than ChangeFraction away (lowered only at
//     LowerFraction for memory and CPULowerFraction for CPU, if set):
//     change once the requests are MinChangeInterval old, or at once for a
//     raise when Config.ImmediateRaise; with MemoryLowersOnItsOwn a change
//     made for CPU keeps memory unless memory is itself due to fall.
func Decide(cfg Config, cur Applied, rec Recommendation, now time.Time) (Resources, string) {
	if cur.Requests.CPU <= 0 || cur.Requests.Memory <= 0 {
		return rec.Target, "initial recommendation"
	}
	c := cur.Requests
	switch {
	case rec.Urgent && rec.Target.Memory > c.Memory:
		return rec.Target, fmt.Sprintf("memory %s -> %s: %s", FormatBytes(c.Memory), FormatBytes(rec.Target.Memory), rec.MemoryReason)
	case c.Memory < rec.Lower.Memory || c.Memory > rec.Upper.Memory:
		return rec.Target, change(c, rec, fmt.Sprintf("memory %s outside [%s, %s]", FormatBytes(c.Memory), FormatBytes(rec.Lower.Memory), FormatBytes(rec.Upper.Memory)))
	case c.CPU < rec.Lower.CPU || c.CPU > rec.Upper.CPU:
		return rec.Target, change(c, rec, fmt.Sprintf("cpu %s outside [%s, %s]", FormatCPU(c.CPU), FormatCPU(rec.Lower.CPU), FormatCPU(rec.Upper.CPU)))
	}
	f := 1 + cfg.ChangeFraction
	raise := rec.Target.Memory > c.Memory*f || rec.Target.CPU > c.CPU*f
	lf, cf := f, f
	if cfg.LowerFraction > 0 {
		lf = 1 + cfg.LowerFraction
	}
	if cfg.CPULowerFraction > 0 {
		cf = 1 + cfg.CPULowerFraction
	}
	lower := c.Memory > rec.Target.Memory*lf || c.CPU > rec.Target.CPU*cf
	old := now.Sub(cur.Changed) >= cfg.MinChangeInterval
	next := rec
	if cfg.MemoryLowersOnItsOwn && rec.Target.Memory < c.Memory && !(old && c.Memory > rec.Target.Memory*lf) {
		// A change CPU asked for does not lower memory that is not itself
		// due to be lowered: that lowering is an OOM risk nobody asked for.
		next.Target.Memory = c.Memory
	}
	switch {
	case raise && (cfg.ImmediateRaise || old):
		return next.Target, change(c, next, fmt.Sprintf("target more than %g%% above the requests", cfg.ChangeFraction*100))
	case lower && old:
		return next.Target, change(c, next, fmt.Sprintf("target below the requests by more than %.0f%% (cpu) or %.0f%% (memory) for %s", (cf-1)*100, (lf-1)*100, cfg.MinChangeInterval))
	}
	return c, ""
}

func change(c Resources, rec Recommendation, why string) string {
	return fmt.Sprintf("%s: cpu %s -> %s (%s); memory %s -> %s (%s)", why,
		FormatCPU(c.CPU), FormatCPU(rec.Target.CPU), rec.CPUReason,
		FormatBytes(c.Memory), FormatBytes(rec.Target.Memory), rec.MemoryReason)
}
