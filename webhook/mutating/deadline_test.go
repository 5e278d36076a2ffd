package mutating

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The handler's context ends when the apiserver stops waiting: at the
// ?timeout= it sent, and not before; a request without one, or with a
// value that does not parse, keeps the connection's context.
func TestWithCallerDeadline(t *testing.T) {
	for _, tc := range []struct {
		query        string
		wantDeadline time.Duration // 0: none
	}{
		{"?timeout=10s", 10 * time.Second},
		{"?timeout=250ms", 250 * time.Millisecond},
		{"", 0},
		{"?timeout=ten", 0},
		{"?timeout=-1s", 0},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var got time.Duration
			var has bool
			h := withCallerDeadline(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				var dl time.Time
				dl, has = r.Context().Deadline()
				got = time.Until(dl)
			}))
			req := httptest.NewRequest(http.MethodPost, Path+tc.query, nil).WithContext(context.Background())
			start := time.Now()
			h.ServeHTTP(httptest.NewRecorder(), req)
			if tc.wantDeadline == 0 {
				if has {
					t.Errorf("deadline set (%s away), want none", got)
				}
				return
			}
			// got was measured inside the handler, so it is at most the
			// timeout and at least the timeout less the time the call took.
			if !has || got > tc.wantDeadline || got < tc.wantDeadline-time.Since(start) {
				t.Errorf("deadline %s away (set: %v), want %s", got, has, tc.wantDeadline)
			}
		})
	}
}
