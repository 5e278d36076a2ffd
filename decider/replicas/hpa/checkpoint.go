package hpa

import (
	"fmt"
	"math"

	"github.com/trimtab-dev/trimtab/decider/replicas/internal/wire"
)

// stateCheckpointVersion is the first byte of an encoded State; it is
// bumped whenever the layout changes, and other versions are refused.
const stateCheckpointVersion = 1

// AppendCheckpoint appends s to dst, so a restarted controller keeps its
// stabilization windows and rate limits:
//
//	version                          1 byte
//	recommendations                  uvarint count, then per entry: uvarint replicas, time
//	scale-up events, scale-down events  uvarint count, then per entry: uvarint change×2 + outdated, time
//
// Times are Unix seconds (varint) and nanoseconds (uvarint): a controller
// decides at sub-second times, and a window edge that moved by the
// truncation would change which recommendation it still holds. The
// outdated mark of a scale event is kept: storeEvent reuses (drops) an
// outdated event's slot, and the mark stays once set; recomputed after a
// restart with a longer policy period, it would bring back an event the
// running controller had let go, and count it against the next rate limit.
// It fails on a negative count or a time outside 1970..9999, which
// RestoreState would refuse.
func (s *State) AppendCheckpoint(dst []byte) ([]byte, error) {
	w := wire.NewWriter(append(dst, stateCheckpointVersion))
	w.Uvarint(uint64(len(s.Recommendations)))
	for _, r := range s.Recommendations {
		w.Int32(r.Replicas, "recommendation replicas")
		w.Time(r.At, "recommendation time")
	}
	for _, evs := range [...][]ScaleEvent{s.Up, s.Down} {
		w.Uvarint(uint64(len(evs)))
		for _, e := range evs {
			var outdated uint64
			if e.outdated {
				outdated = 1
			}
			if e.Change < 0 {
				w.Failf("scale event change %d: want ≥ 0", e.Change)
			}
			w.Uvarint(uint64(max(e.Change, 0))<<1 | outdated)
			w.Time(e.At, "scale event time")
		}
	}
	b, err := w.Bytes()
	if err != nil {
		return nil, fmt.Errorf("hpa state checkpoint: %w", err)
	}
	return b, nil
}

// RestoreState decodes a State written by AppendCheckpoint and returns it
// with the bytes that follow. Counts are checked against the bytes left
// (a corrupted count fails instead of allocating), replicas and changes
// against int32, and times against 1970..9999.
func RestoreState(src []byte) (State, []byte, error) {
	var s State
	r := wire.NewReader(src)
	if v := r.Byte("version"); r.Err() == nil && v != stateCheckpointVersion {
		return State{}, nil, fmt.Errorf("hpa state checkpoint: version %d: this build reads version %d only", v, stateCheckpointVersion)
	}
	// The shortest entry is 3 bytes: a one-byte count and a two-byte time.
	if n := r.Len(3, "recommendation count"); n > 0 {
		s.Recommendations = make([]Recommendation, n)
		for i := range s.Recommendations {
			s.Recommendations[i] = Recommendation{Replicas: r.Int32("replicas"), At: r.Time("time")}
			if r.Err() != nil {
				return State{}, nil, fmt.Errorf("hpa state checkpoint: recommendation %d of %d: %w", i, n, r.Err())
			}
		}
	}
	for k, evs := range [...]*[]ScaleEvent{&s.Up, &s.Down} {
		dir := [...]string{"scale-up", "scale-down"}[k]
		n := r.Len(3, dir+" event count")
		if n == 0 {
			continue
		}
		*evs = make([]ScaleEvent, n)
		for i := range *evs {
			v := r.Uvarint("change")
			at := r.Time("time")
			if v>>1 > math.MaxInt32 {
				r.Failf("change %d: want 0..%d", v>>1, math.MaxInt32)
			}
			if r.Err() != nil {
				return State{}, nil, fmt.Errorf("hpa state checkpoint: %s event %d of %d: %w", dir, i, n, r.Err())
			}
			(*evs)[i] = ScaleEvent{Change: int32(v >> 1), At: at, outdated: v&1 == 1}
		}
	}
	if r.Err() != nil {
		return State{}, nil, fmt.Errorf("hpa state checkpoint: %w", r.Err())
	}
	return s, r.Rest(), nil
}
