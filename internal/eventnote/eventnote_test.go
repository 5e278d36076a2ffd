package eventnote

import (
	"strings"
	"testing"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
)

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"short", "evicted shop/etl-1"},
		{"exactly the limit", strings.Repeat("a", Max)},
		{"ascii over", strings.Repeat("a", 3000)},
		// "≤" is three bytes: a byte cut would split one.
		{"multi-byte over", strings.Repeat("score ≤ 3; ", 200)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Clip(tc.in)
			if len(got) > Max || !utf8.ValidString(got) {
				t.Fatalf("Clip: %d bytes, valid UTF-8 %v; want at most %d, valid", len(got), utf8.ValidString(got), Max)
			}
			if len(tc.in) <= Max && got != tc.in {
				t.Errorf("Clip changed a note that fits: %q", got)
			}
			if len(tc.in) > Max && (!strings.HasSuffix(got, "...") || !strings.HasPrefix(tc.in, strings.TrimSuffix(got, "..."))) {
				t.Errorf("Clip(%d bytes) = %q…, want a prefix and \"...\"", len(tc.in), got[:40])
			}
		})
	}
}

// note is an EventRecorder that keeps the last note.
type note struct{ last string }

func (n *note) Eventf(_, _ runtime.Object, _, _, _, format string, args ...interface{}) {
	n.last = format
	if len(args) > 0 {
		n.last = args[0].(string)
	}
}

func TestRecorderClipsEveryNote(t *testing.T) {
	var got note
	var r events.EventRecorder = Recorder(&got)
	long := strings.Repeat("n", 300)
	r.Eventf(&corev1.Pod{}, nil, corev1.EventTypeWarning, "JobPodLeft", "Plan", "%s/%s on %s stays: %s", long, long, long, long)
	if len(got.last) > Max {
		t.Fatalf("recorded note of %d bytes, want at most %d", len(got.last), Max)
	}
	r.Eventf(&corev1.Pod{}, nil, corev1.EventTypeNormal, "Evicted", "Evict", "pod %s: %d%%", "etl-1", 50)
	if got.last != "pod etl-1: 50%" {
		t.Errorf("short note recorded as %q", got.last)
	}
}
