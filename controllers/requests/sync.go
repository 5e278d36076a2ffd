package requests

import (
	"context"
	"time"
)

// syncWorkload runs one workload's part of a sync once its usage is read:
// count its new OOM kills, update the recommendations from what was
// learned (holding them when nothing was), write status.requests and its
// Events, and save the models when due.
func (c *Controller) syncWorkload(ctx context.Context, w *workload, nodes nodeInfo, now time.Time, st *SyncStats) error {
	t := c.tracked[w.key]
	c.countOOMs(ctx, w, t, st)
	c.recommend(w, t, nodes, now)
	c.resize(ctx, w, t, now, st)
	old := w.decision.Status.Requests.DeepCopy()
	next := c.nextStatus(w, t, old, now)
	if err := c.writeStatus(ctx, w, t, next, now, st); err != nil {
		return err
	}
	c.recordTransitions(w, t, old, next)
	saved, err := c.checkpoint(ctx, w, t, now)
	if saved {
		st.Checkpoints++
	}
	return err
}
