package hpa

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/trimtab-dev/trimtab/decider/replicas/internal/wire"
)

var ckptT0 = time.Date(2026, 3, 2, 7, 0, 0, 250_000_000, time.UTC)

// scaledUp runs three scale-ups under +4 pods per 15 s: 10→12 at t0,
// 12→14 5 s later and 14→18 a minute later, which marks both earlier
// events outdated and reuses the second one's slot.
func scaledUp(t *testing.T) (State, int32) {
	t.Helper()
	var s State
	spec := Spec{MinReplicas: 1, MaxReplicas: 100, Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(4, 15, 0, 0, 0)}}
	cur := int32(10)
	for _, step := range []struct {
		at       time.Duration
		proposal int32
		want     int32
	}{{0, 12, 12}, {5 * time.Second, 100, 14}, {time.Minute, 100, 18}} {
		out, err := s.Reconcile(spec, cur, []Proposal{{Metric: "cpu", Replicas: step.proposal}}, ckptT0.Add(step.at))
		if err != nil || out.Replicas != step.want {
			t.Fatalf("at +%s: %d, %v; want %d", step.at, out.Replicas, err, step.want)
		}
		cur = out.Replicas
	}
	if len(s.Up) != 2 || !s.Up[0].outdated || s.Up[1].outdated {
		t.Fatalf("scale-up events %+v: want the first outdated, the newest not", s.Up)
	}
	return s, cur
}

func roundTrip(t *testing.T, s State) State {
	t.Helper()
	b, err := s.AppendCheckpoint([]byte("prefix"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:6]) != "prefix" {
		t.Fatalf("AppendCheckpoint overwrote what it appends to: %q", b[:6])
	}
	r, rest, err := RestoreState(append(b[6:], "next"...))
	if err != nil {
		t.Fatal(err)
	}
	if string(rest) != "next" {
		t.Fatalf("RestoreState left %q, want the bytes after the state", rest)
	}
	return r
}

// TestStateCheckpointKeepsOutdated: the restored state is the original,
// outdated marks included, and after a restart under a longer policy
// period it limits exactly as the original; recomputing the marks instead
// would let the next scale-up go less far.
func TestStateCheckpointKeepsOutdated(t *testing.T) {
	orig, cur := scaledUp(t)
	down := ckptT0.Add(-time.Hour)
	orig.Down = []ScaleEvent{{Change: 3, At: down, outdated: true}, {Change: 1, At: down.Add(time.Second)}}
	restored := roundTrip(t, orig)
	if !reflect.DeepEqual(orig, restored) {
		t.Fatalf("restored %+v, want %+v", restored, orig)
	}
	unmarked := roundTrip(t, orig)
	unmarked.Up[0].outdated = false

	// After the restart: +10 pods per 120 s.
	spec := Spec{MinReplicas: 1, MaxReplicas: 100, Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(10, 120, 0, 0, 0)}}
	run := func(s *State) []int32 {
		c := cur
		var got []int32
		for _, at := range []time.Duration{100 * time.Second, 110 * time.Second} {
			out, err := s.Reconcile(spec, c, []Proposal{{Metric: "cpu", Replicas: 100}}, ckptT0.Add(at))
			if err != nil {
				t.Fatal(err)
			}
			c = out.Replicas
			got = append(got, c)
		}
		return got
	}
	want, got, recomputed := run(&orig), run(&restored), run(&unmarked)
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(orig, restored) {
		t.Errorf("restored state scaled %v, the original %v", got, want)
	}
	if reflect.DeepEqual(recomputed, want) {
		t.Errorf("without the outdated mark the state scaled %v too: the mark would not need a checkpoint", recomputed)
	}
}

func TestStateCheckpointEmpty(t *testing.T) {
	if r := roundTrip(t, State{}); !reflect.DeepEqual(r, State{}) {
		t.Errorf("empty state restored as %+v", r)
	}
}

func TestStateCheckpointRefuses(t *testing.T) {
	s, _ := scaledUp(t)
	good, err := s.AppendCheckpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(good) {
		if _, _, err := RestoreState(good[:n]); !errors.Is(err, wire.ErrTruncated) {
			t.Fatalf("%d of %d bytes: got %v, want a truncation error", n, len(good), err)
		}
	}
	edit := func(at int, v ...byte) []byte {
		b := append([]byte(nil), good...)
		return append(b[:at], append(v, b[at+len(v):]...)...)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"version 0", edit(0, 0), "version 0: this build reads version 1"},
		{"version 99", edit(0, 99), "version 99"},
		{"a count past the input", edit(1, 0xff, 0x7f), "recommendation count 16383"},
		{"replicas past int32", append([]byte{1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f}, good[2:]...), "recommendation 0 of 1: replicas 4294967295"},
		{"a time before 1970", []byte{1, 1, 3, 1, 0, 0, 0}, "recommendation 0 of 1: time: Unix second -1"},
		{"a change past int32", []byte{1, 0, 1, 0xfe, 0xff, 0xff, 0xff, 0x1f, 2, 0, 0}, "scale-up event 0 of 1: change 4294967295"},
	} {
		if _, _, err := RestoreState(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	for name, bad := range map[string]State{
		"negative replicas":  {Recommendations: []Recommendation{{Replicas: -1, At: ckptT0}}},
		"negative change":    {Down: []ScaleEvent{{Change: -2, At: ckptT0}}},
		"a time before 1970": {Up: []ScaleEvent{{Change: 2, At: time.Unix(-10, 0)}}},
	} {
		if _, err := bad.AppendCheckpoint(nil); err == nil {
			t.Errorf("%s: checkpointed a state RestoreState would refuse", name)
		}
	}
}
