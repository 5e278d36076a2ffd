package mutating

import (
	"slices"
	"testing"
)

// maxWebhookTimeout is the longest an apiserver waits for a webhook
// (timeoutSeconds is 1-30), and the chart's webhook.timeoutSeconds maximum.
const maxWebhookTimeout = 30

// TestAdmissionBucketsReachTheTimeout: for every timeout the chart allows,
// the latency histogram has a bucket edge between half the timeout and the
// timeout, so a quantile can tell "near the timeout" from "well below it"
// (the chart's TrimtabAdmissionSlow alert) instead of every slow decision
// falling into one wide bucket or +Inf.
func TestAdmissionBucketsReachTheTimeout(t *testing.T) {
	if !slices.IsSorted(admissionBuckets) {
		t.Fatalf("buckets %v are not ascending", admissionBuckets)
	}
	for timeout := 1.0; timeout <= maxWebhookTimeout; timeout++ {
		if !slices.ContainsFunc(admissionBuckets, func(b float64) bool { return b >= timeout/2 && b <= timeout }) {
			t.Errorf("no bucket edge in [%gs, %gs] for a %gs webhook timeout: %v", timeout/2, timeout, timeout, admissionBuckets)
		}
	}
}
