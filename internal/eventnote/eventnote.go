// Package eventnote keeps Event notes within what the events API accepts.
// The apiserver refuses an Event whose note is over 1 KiB, and the recorder
// sends it in the background, so an over-long note is an Event silently
// lost. trimtab's notes carry object names (up to 253 bytes each), market
// reasons and scheduler messages, so any of them can reach the limit.
package eventnote

import (
	"fmt"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
)

// Max is the longest note the events API accepts, in bytes.
const Max = 1024

// Clip returns s if it fits in Max bytes, else its longest prefix of whole
// UTF-8 characters that fits with "..." after it. (A cut inside a
// character would be sent as U+FFFD, three bytes, and could cross the
// limit again.)
func Clip(s string) string {
	if len(s) <= Max {
		return s
	}
	cut := Max - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// Recorder wraps r so that every note it records is clipped.
func Recorder(r events.EventRecorder) events.EventRecorder { return clipping{r} }

type clipping struct{ events.EventRecorder }

func (c clipping) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...interface{}) {
	c.EventRecorder.Eventf(regarding, related, eventtype, reason, action, "%s", Clip(fmt.Sprintf(note, args...)))
}
