package main

import (
	"strings"
	"testing"
)

// Bad in-place resize limits stop the manager before it connects, naming
// the flag, the value and what is accepted.
func TestManagerResizeFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--requests-resize-every=0s"}, "--requests-resize-every 0s: must be a positive duration"},
		{[]string{"--requests-resizes-per-minute=0"}, "--requests-resizes-per-minute 0: must be at least 1"},
	} {
		cmd := newManagerCmd()
		cmd.SetArgs(c.args)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}
