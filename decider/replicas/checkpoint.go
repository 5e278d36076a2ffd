package replicas

import (
	"fmt"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas/forecast"
	"github.com/trimtab-dev/trimtab/decider/replicas/hpa"
	"github.com/trimtab-dev/trimtab/decider/replicas/internal/wire"
)

// stateMagic starts a decider state checkpoint: "tr" and the layout
// version, bumped whenever the layout changes (the parts carry their own
// versions too); other versions are refused by name.
var stateMagic = [...]byte{'t', 'r', 1}

// The guard's flags byte: bit 0 tripped, bit 1+i set when times()[i]
// is set (a zero time, "not under the clear mark", stays zero).
const (
	guardTripped = 1
	guardFlags   = 0x0f // tripped and the three times
)

type namedTime struct {
	at   *time.Time
	name string
}

// times are the guard's times in checkpoint order.
func (g *GuardState) times() [3]namedTime {
	return [...]namedTime{{&g.Since, "guard since"}, {&g.UnderSince, "guard under since"}, {&g.LastStep, "guard last step"}}
}

// MarshalBinary encodes the workload's whole memory, so that a manager
// restart or a new leader resumes with the learned forecast instead of
// re-learning it for a week:
//
//	"tr" 1               magic and version
//	HPA state            hpa.State.AppendCheckpoint: recommendations, scale events
//	guard                flags byte (1 tripped, 2 since, 4 under since, 8 last step set), then each set time
//	reactive             uvarint count, then per entry: uvarint replicas, time
//	forecaster           forecast.Model.MarshalBinary, to the end
//
// Times are Unix seconds and nanoseconds (exact; the controller decides at
// sub-second times); a zero guard time stays zero through its flag. A week
// of history takes ~7.7 KiB, almost all of it the forecaster, against a
// budget of 32 KiB (docs/replicas.md). Only trimtab's own forecaster is
// checkpointed: a State whose Forecast is anything else (a replay's
// clairvoyant bound) is an error.
func (s *State) MarshalBinary() ([]byte, error) {
	m, ok := s.Forecast.(*forecast.Model)
	if !ok || m == nil {
		return nil, fmt.Errorf("replicas checkpoint: forecaster %T: only a *forecast.Model can be checkpointed", s.Forecast)
	}
	b := make([]byte, 0, 8<<10)
	b, err := s.HPA.AppendCheckpoint(append(b, stateMagic[:]...))
	if err != nil {
		return nil, fmt.Errorf("replicas checkpoint: %w", err)
	}
	w := wire.NewWriter(b)
	g := s.Guard
	var flags byte
	if g.Tripped {
		flags |= guardTripped
	}
	for i, t := range g.times() {
		if !t.at.IsZero() {
			flags |= 2 << i
		}
	}
	w.Byte(flags)
	for _, t := range g.times() {
		if !t.at.IsZero() {
			w.Time(*t.at, t.name)
		}
	}
	w.Uvarint(uint64(len(s.Reactive)))
	for _, r := range s.Reactive {
		w.Int32(r.Replicas, "reactive recommendation replicas")
		w.Time(r.At, "reactive recommendation time")
	}
	if b, err = w.Bytes(); err != nil {
		return nil, fmt.Errorf("replicas checkpoint: %w", err)
	}
	if b, err = m.AppendBinary(b); err != nil {
		return nil, fmt.Errorf("replicas checkpoint: %w", err)
	}
	return b, nil
}

// RestoreState decodes a checkpoint written by State.MarshalBinary for a
// workload running with cfg. cfg is validated, and its Forecast config must
// keep the forecaster's Bucket (forecast.Restore says which other changes
// are safe); the policy's bounds, behavior, guard and floors may change,
// and apply from the next decision as they would to a running state.
// Every part is checked (see forecast.Restore and hpa.RestoreState);
// truncated or corrupted input is an error naming the part and the field,
// never a panic.
func RestoreState(cfg Config, data []byte) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("replicas checkpoint: config: %w", err)
	}
	if len(data) < len(stateMagic) {
		return nil, fmt.Errorf("replicas checkpoint: %w reading the header (%d of %d bytes)", wire.ErrTruncated, len(data), len(stateMagic))
	}
	if data[0] != stateMagic[0] || data[1] != stateMagic[1] {
		return nil, fmt.Errorf("replicas checkpoint: header %q: not a replicas checkpoint (want %q)", data[:2], stateMagic[:2])
	}
	if data[2] != stateMagic[2] {
		return nil, fmt.Errorf("replicas checkpoint: version %d: this build reads version %d only; start from a fresh state", data[2], stateMagic[2])
	}
	var s State
	hs, rest, err := hpa.RestoreState(data[len(stateMagic):])
	if err != nil {
		return nil, fmt.Errorf("replicas checkpoint: %w", err)
	}
	s.HPA = hs
	r := wire.NewReader(rest)
	flags := r.Byte("guard flags")
	if r.Err() == nil && flags&^guardFlags != 0 {
		r.Failf("guard flags %#x: unknown bits (want %#x at most)", flags, guardFlags)
	}
	s.Guard.Tripped = flags&guardTripped != 0
	for i, t := range s.Guard.times() {
		if flags&(2<<i) != 0 {
			*t.at = r.Time(t.name)
		}
	}
	if n := r.Len(3, "reactive recommendation count"); n > 0 {
		s.Reactive = make([]hpa.Recommendation, n)
		for i := range s.Reactive {
			s.Reactive[i] = hpa.Recommendation{Replicas: r.Int32("replicas"), At: r.Time("time")}
			if r.Err() != nil {
				return nil, fmt.Errorf("replicas checkpoint: reactive recommendation %d of %d: %w", i, n, r.Err())
			}
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("replicas checkpoint: %w", err)
	}
	m, err := forecast.Restore(cfg.Forecast, r.Rest())
	if err != nil {
		return nil, fmt.Errorf("replicas checkpoint: %w", err)
	}
	s.Forecast = m
	return &s, nil
}
