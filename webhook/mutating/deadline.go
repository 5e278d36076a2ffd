package mutating

import (
	"context"
	"net/http"
	"time"
)

// withCallerDeadline gives each admission request's context the deadline
// the apiserver gave the call: it sends its webhook timeout as the timeout
// query parameter (e.g. "?timeout=10s", the webhook configuration's
// timeoutSeconds), and stops waiting after it. Past it an answer is
// wasted, and a Ledger reservation would count a pod that is created
// unchanged, so the handler stops there too. A request without the
// parameter keeps the connection's context, which ends when the apiserver
// hangs up.
func withCallerDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("timeout")); err == nil && d > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}
