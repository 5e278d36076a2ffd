package e2e

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/internal/stats"
	"github.com/trimtab-dev/trimtab/webhook"
)

// TestManagerFaults injects the faults a manager meets in production while
// pods are created at 20/s through the real apiserver: it freezes the
// manager process (SIGSTOP, as a stuck node or a long GC pause would) for
// 10 s, then kills it (kill -9) and starts it again. It reports, per phase,
// creates, failed creates, latency and pods without a decision, and requires:
//
//   - no failed create, ever (both webhooks fail open);
//   - a frozen manager adds at most the webhook timeout to a create;
//   - every pod created after the restarted manager reports ready carries a
//     decision (readiness waits for the caches).
//
// Pods created while the manager was frozen or down are admitted unchanged:
// that is failing open, and finding them is drift detection's job.
//
// TRIMTAB_FAULT_TIMEOUT=N overrides the webhooks' timeout (seconds), to
// compare timeouts; TRIMTAB_FAULT_RATE the pods per second.
func TestManagerFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startManagerProcess(t, "--zap-log-level=debug")
	e := newEnv(t, p.optedIn())
	e.waitActive(t)
	timeout := faultTimeout(t, ctx, e, p)
	owner := benchOwner(t, ctx, e)
	t.Cleanup(func() {
		// Their node does not exist, so nothing would confirm a graceful
		// deletion and the namespace would hang in Terminating.
		_ = e.cs.CoreV1().Pods(e.namespace).DeleteCollection(context.Background(),
			metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}, metav1.ListOptions{LabelSelector: "fault=pod"})
	})
	rate := envInt(t, "TRIMTAB_FAULT_RATE", 20)

	load := startLoad(ctx, e, owner, rate)
	var marks []phaseMark
	mark := func(name string) { marks = append(marks, phaseMark{name, time.Now()}) }

	mark("healthy")
	time.Sleep(8 * time.Second)
	mark("frozen (SIGSTOP)")
	p.signal(syscall.SIGSTOP)
	time.Sleep(10 * time.Second)
	p.signal(syscall.SIGCONT)
	mark("thawed (SIGCONT)")
	time.Sleep(5 * time.Second)
	mark("killed (kill -9)")
	p.kill()
	time.Sleep(5 * time.Second)
	mark("restarting")
	p.start()
	ready := p.waitReady(60 * time.Second)
	marks = append(marks, phaseMark{"after readiness", ready})
	time.Sleep(8 * time.Second)
	results := load.stop()

	rows := summarize(results, marks)
	t.Logf("webhook timeout %d s, %d pods/s, manager %s (log %s)\n%s", timeout, rate, p.bin, p.log, formatRows(rows))

	var healthy, frozen, afterReady phaseRow
	for _, r := range rows {
		switch r.name {
		case "healthy":
			healthy = r
		case "frozen (SIGSTOP)":
			frozen = r
		case "after readiness":
			afterReady = r
		}
		if r.failed > 0 {
			t.Errorf("%s: %d of %d creates failed (first: %v); trimtab must never fail a pod create", r.name, r.failed, r.n, r.firstErr)
		}
	}
	if afterReady.n == 0 || afterReady.undecided > 0 {
		t.Errorf("after readiness: %d of %d pods without a decision, want none", afterReady.undecided, afterReady.n)
	}
	if healthy.undecided > 0 {
		t.Errorf("healthy: %d of %d pods without a decision, want none", healthy.undecided, healthy.n)
	}
	// A frozen manager costs a create the timeout and no more: the
	// apiserver does not retry a webhook call that timed out. The median is
	// compared, with 1 s for a loaded machine: a retry would add a whole
	// timeout more.
	added := frozen.p50 - healthy.p50
	if limit := time.Duration(timeout)*time.Second + time.Second; added > limit {
		t.Errorf("frozen: a create took %s more than healthy (p50), want ≤ the %d s timeout + 1 s", added, timeout)
	}
	t.Logf("added latency while frozen: p50 %s, p99 %s over healthy", added, frozen.p99-healthy.p99)
}

// faultTimeout sets the webhooks' timeout to the chart's default
// (webhook.DefaultTimeoutSeconds), or $TRIMTAB_FAULT_TIMEOUT when set, and
// returns it.
func faultTimeout(t *testing.T, ctx context.Context, e *env, p *managerProcess) int32 {
	t.Helper()
	mc := e.cs.AdmissionregistrationV1().MutatingWebhookConfigurations()
	m, err := mc.Get(ctx, p.name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := int(webhook.DefaultTimeoutSeconds)
	if v := os.Getenv("TRIMTAB_FAULT_TIMEOUT"); v != "" {
		n, err = strconv.Atoi(v)
		if err != nil || n < 1 || n > 30 {
			t.Fatalf("TRIMTAB_FAULT_TIMEOUT=%q: want whole seconds from 1 to 30", v)
		}
	}
	m.Webhooks[0].TimeoutSeconds = ptr.To(int32(n))
	if _, err := mc.Update(ctx, m, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the apiserver reloads webhook configurations asynchronously
	return int32(n)
}

// createResult is one pod create: when it started, how long it took, how
// it ended.
type createResult struct {
	name    string
	start   time.Time
	latency time.Duration
	err     error
	// decided is whether the pod the apiserver stored carries a decision.
	decided bool
}

// loadGen creates pods at a fixed rate, open loop: each create starts on
// schedule whatever the earlier ones are doing, as a ReplicaSet controller
// with many workloads would.
type loadGen struct {
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	results []createResult
	wg      sync.WaitGroup
}

func startLoad(ctx context.Context, e *env, owner metav1.OwnerReference, rate int) *loadGen {
	ctx, cancel := context.WithCancel(ctx)
	g := &loadGen{cancel: cancel, done: make(chan struct{})}
	interval := time.Second / time.Duration(rate)
	go func() {
		defer close(g.done)
		start := time.Now()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(start.Add(time.Duration(i) * interval))):
			}
			g.wg.Add(1)
			go func() {
				defer g.wg.Done()
				pod := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{
						Name:            fmt.Sprintf("fault-%d", i),
						Labels:          map[string]string{"fault": "pod"},
						OwnerReferences: []metav1.OwnerReference{owner},
					},
					Spec: corev1.PodSpec{
						NodeName:   "fault-nowhere", // neither scheduled nor run
						Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}},
					},
				}
				r := createResult{name: pod.Name, start: time.Now()}
				// Not ctx: a create in flight when the load stops runs to
				// its end, so its latency counts.
				created, err := e.cs.CoreV1().Pods(e.namespace).Create(context.Background(), pod, metav1.CreateOptions{})
				r.latency, r.err = time.Since(r.start), err
				// The stored pod, as the create returns it: the pod
				// garbage collector deletes pods of a missing node after
				// 40 s, so a list at the end would not find them all.
				r.decided = err == nil && created.Annotations[config.AnnotationDecision] != ""
				g.mu.Lock()
				g.results = append(g.results, r)
				g.mu.Unlock()
			}()
		}
	}()
	return g
}

// stop stops creating, waits for the creates in flight and returns all.
func (g *loadGen) stop() []createResult {
	g.cancel()
	<-g.done
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.results
}

type phaseMark struct {
	name string
	at   time.Time
}

type phaseRow struct {
	name      string
	n, failed int
	// undecided counts the pods created without a decision among those
	// whose create also ended before the next phase began; spanning counts
	// the others (a create sent just before SIGSTOP meets a frozen manager).
	undecided, spanning int
	p50, p99, max       time.Duration
	firstErr            error
}

// summarize groups creates by the phase they started in.
func summarize(results []createResult, marks []phaseMark) []phaseRow {
	rows := make([]phaseRow, len(marks))
	lat := make([][]time.Duration, len(marks))
	for i, m := range marks {
		rows[i].name = m.name
	}
	sort.Slice(results, func(i, j int) bool { return results[i].start.Before(results[j].start) })
	for _, r := range results {
		i := sort.Search(len(marks), func(i int) bool { return marks[i].at.After(r.start) }) - 1
		if i < 0 {
			continue
		}
		row := &rows[i]
		row.n++
		lat[i] = append(lat[i], r.latency)
		if r.latency > row.max {
			row.max = r.latency
		}
		if r.err != nil {
			row.failed++
			if row.firstErr == nil {
				row.firstErr = r.err
			}
			continue
		}
		if i+1 < len(marks) && r.start.Add(r.latency).After(marks[i+1].at) {
			row.spanning++
			continue
		}
		if !r.decided {
			row.undecided++
		}
	}
	for i := range rows {
		rows[i].p50, _ = stats.Quantile(lat[i], 0.5)
		rows[i].p99, _ = stats.Quantile(lat[i], 0.99)
	}
	return rows
}

func formatRows(rows []phaseRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %6s %7s %9s %10s %9s %9s %9s\n", "phase", "pods", "failed", "spanning", "undecided", "p50", "p99", "max")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-18s %6d %7d %9d %10d %9s %9s %9s\n", r.name, r.n, r.failed, r.spanning, r.undecided,
			r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.max.Round(time.Millisecond))
	}
	return b.String()
}
