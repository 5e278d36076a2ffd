package placement

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/decider/spot"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/prices"
	"github.com/trimtab-dev/trimtab/prices/ec2"
)

// warmStep is the step of the warm-up over a market's first history: the
// replay's tick (simulate/pricesim), on which the forecaster's defaults
// were measured.
const warmStep = time.Minute

// CheckpointKey is the data key of the forecaster's state in its ConfigMap.
const CheckpointKey = "forecaster.json"

// Prices is the placer's price side: the EC2 spot price source, refreshed
// every Period for the markets of the cluster's spot nodes, feeding the
// spot forecaster, whose state is saved in a ConfigMap (Checkpoint) every
// CheckpointEvery and restored from it on the first round, so a restart
// or a new leader keeps what the forecaster learned and the markets it
// has off spot.
//
// Stale or failing prices hold: a failed refresh merges nothing, the last
// good prices stay, and once they are older than the forecaster's
// MaxStale every market answers Hold, is not fresh, and no price-driven
// move is planned on it. The transition is reported with a Warning Event
// PricesStale (and a Normal PricesFresh when they return) on the
// checkpoint ConfigMap, the PricesFresh condition of each Decision's
// placement record (outlook.go), and the metrics in metrics.go.
type Prices struct {
	// API is the EC2 client (prices/ec2.NewClient).
	API ec2.EC2API
	// Period is how often prices are refreshed (0: 5 min). Lookback is how
	// far back a market's first refresh reaches (0: 7 days, what the
	// forecaster's tables learn from on a cold start).
	Period, Lookback time.Duration
	// Forecaster configures the spot forecaster.
	Forecaster spot.Config
	// Checkpoint names the ConfigMap holding the forecaster's state;
	// CheckpointEvery is how often it is saved (0: 5 min).
	Checkpoint      client.ObjectKey
	CheckpointEvery time.Duration
	// OnDemand prices the markets (0: prices.DefaultOnDemand).
	OnDemand prices.OnDemandTable
	// Scores, when set, reads EC2's spot placement scores on its own
	// period in the same round, as a capacity signal beside the prices
	// (scores.go); nil: prices alone.
	Scores *Scores

	mu          sync.Mutex
	src         *ec2.Source
	fc          *spot.Forecaster
	started     bool
	lastRefresh time.Time
	lastSave    time.Time
	outBecause  map[prices.Market]spot.Reason
	stale       map[prices.Market]bool
	now         time.Time
}

func (p *Prices) clock() time.Time { return p.now }

// PriceReport is one round of the price side, for logs and tests.
type PriceReport struct {
	Markets   map[prices.Market]placer.MarketState
	Refreshed bool
	// Err is the last refresh's error; nil after a success.
	Err error
	// Scores is the score side's round (zero without Scores).
	Scores ScoreReport
}

// markets lists the spot markets of the cluster's nodes.
func spotMarkets(infos map[string]*placer.NodeInfo) []prices.Market {
	seen := map[prices.Market]bool{}
	var out []prices.Market
	for _, ni := range infos {
		if ni.Capacity != capacity.Spot || !ni.Priced || seen[ni.Market] {
			continue
		}
		seen[ni.Market] = true
		out = append(out, ni.Market)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Round refreshes the prices when due, feeds the forecaster and returns
// each spot market's state at now. c reads and writes the checkpoint; rec
// emits the staleness Events on it.
func (p *Prices) Round(ctx context.Context, c client.Client, rec events.EventRecorder, now time.Time, infos map[string]*placer.NodeInfo) (PriceReport, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started {
		if err := p.start(ctx, c, now); err != nil {
			return PriceReport{}, err
		}
	}
	// The source reads the round's time (p.clock), the controller's
	// injected clock: a sped-up clock speeds prices and plan alike.
	p.now = now
	rep := PriceReport{Markets: map[prices.Market]placer.MarketState{}}
	markets := spotMarkets(infos)
	if len(markets) == 0 {
		return rep, nil
	}
	if p.src == nil {
		od := p.OnDemand
		if od == nil {
			od = prices.DefaultOnDemand
		}
		src, err := ec2.New(p.API, ec2.Config{Markets: markets, Lookback: or(p.Lookback, 7*24*time.Hour), OnDemand: od}, p.clock)
		if err != nil {
			return rep, err
		}
		p.src = src
	} else if err := p.src.SetMarkets(markets); err != nil {
		return rep, err
	}
	if p.lastRefresh.IsZero() || now.Sub(p.lastRefresh) >= or(p.Period, 5*time.Minute) {
		p.lastRefresh = now
		rep.Refreshed = true
		if err := p.src.Refresh(ctx); err != nil {
			refreshErrors.Inc()
			log.FromContext(ctx).Error(err, "refreshing spot prices; the last known prices hold")
		}
	}
	snap, _ := p.src.Snapshot(ctx, time.Time{})
	rep.Err = snap.Err
	if st := p.src.Staleness(now); st >= 0 {
		priceAge.Set(st.Seconds())
	}
	// A market's first history (the week the first refresh reaches back)
	// is stepped through as the replay steps it (spot.Warm), so the
	// forecaster forecasts from its first round, as the replay's figures
	// say it does, instead of only reacting for days.
	for _, h := range snap.Histories {
		if snap.AsOf.IsZero() {
			break
		}
		why, err := p.fc.Warm(h, snap.AsOf, warmStep)
		if err != nil {
			return rep, fmt.Errorf("warming the spot forecaster: %w", err)
		}
		if why != spot.ReasonSteady {
			p.outBecause[h.Market] = why
		}
	}
	if err := p.fc.Feed(snap); err != nil {
		// Invalid points never come from a source that validated them;
		// an error here holds every market (no state means not fresh).
		return rep, fmt.Errorf("feeding the spot forecaster: %w", err)
	}
	for _, m := range markets {
		a, err := p.fc.Step(m, now)
		if err != nil {
			return rep, fmt.Errorf("assessing %s: %w", m, err)
		}
		if a.Action == spot.MoveOut {
			p.outBecause[m] = a.Reason
		}
		ms := placer.MarketStateOf(a, p.outBecause[m])
		if !ms.Fresh && snap.Err != nil {
			ms.Reason += "; last refresh: " + snap.Err.Error()
		}
		rep.Markets[m] = ms
		off := 0.0
		if ms.Off {
			off = 1
		}
		marketOff.WithLabelValues(m.InstanceType, m.Zone).Set(off)
		fresh := 1.0
		if !ms.Fresh {
			fresh = 0
		}
		marketFresh.WithLabelValues(m.InstanceType, m.Zone).Set(fresh)
		if p.stale[m] != !ms.Fresh {
			p.stale[m] = !ms.Fresh
			p.event(ctx, c, rec, ms)
		}
	}
	if now.Sub(p.lastSave) >= or(p.CheckpointEvery, 5*time.Minute) {
		if err := p.save(ctx, c, now); err != nil {
			log.FromContext(ctx).Error(err, "saving the spot forecaster; retrying next round")
		} else {
			p.lastSave = now
		}
	}
	if p.Scores != nil {
		// After the save: its Events go on the checkpoint ConfigMap.
		rep.Scores = p.Scores.round(ctx, c, rec, p.Checkpoint, now, infos, markets)
	}
	return rep, nil
}

// event reports a market turning stale or fresh on the checkpoint
// ConfigMap, where `kubectl describe` shows it beside the saved state. A
// market with no price yet (the first rounds) is not reported.
func (p *Prices) event(ctx context.Context, c client.Client, rec events.EventRecorder, ms placer.MarketState) {
	if rec == nil {
		return
	}
	var cm corev1.ConfigMap
	if err := c.Get(ctx, p.Checkpoint, &cm); err != nil {
		return
	}
	if ms.Fresh {
		rec.Eventf(&cm, nil, corev1.EventTypeNormal, "PricesFresh", "Refresh", "%s", ms.Reason)
		return
	}
	rec.Eventf(&cm, nil, corev1.EventTypeWarning, "PricesStale", "Hold", "no price-driven move on %s", ms.Reason)
}

// start restores the forecaster from its checkpoint; a missing checkpoint
// starts cold, one that does not restore is logged and starts cold.
func (p *Prices) start(ctx context.Context, c client.Client, now time.Time) error {
	p.outBecause, p.stale = map[prices.Market]spot.Reason{}, map[prices.Market]bool{}
	cold, err := spot.New(p.Forecaster)
	if err != nil {
		return fmt.Errorf("spot forecaster: %w", err)
	}
	p.fc = cold
	var cm corev1.ConfigMap
	switch err := c.Get(ctx, p.Checkpoint, &cm); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("reading the spot forecaster checkpoint %s: %w", p.Checkpoint, err)
	default:
		if err := restorable(&cm, now); err != nil {
			log.FromContext(ctx).Error(err, "spot forecaster checkpoint not restored; starting cold", "configmap", p.Checkpoint)
		} else if b, ok := cm.BinaryData[CheckpointKey]; ok {
			if f, err := spot.Restore(p.Forecaster, b); err != nil {
				log.FromContext(ctx).Error(err, "spot forecaster checkpoint not restored; starting cold", "configmap", p.Checkpoint)
			} else {
				p.fc = f
				log.FromContext(ctx).Info("spot forecaster restored", "configmap", p.Checkpoint, "markets", len(f.Markets()))
			}
		}
		if b, ok := cm.BinaryData[ScoresKey]; ok && p.Scores != nil && restorable(&cm, now) == nil {
			if err := p.Scores.restore(b); err != nil {
				log.FromContext(ctx).Error(err, "placement score state not restored; its hysteresis starts over", "configmap", p.Checkpoint)
			}
		}
	}
	p.started = true
	return nil
}

// restorable refuses a checkpoint saved after now: its markets' last
// observations would be after every step the forecaster is asked for, and
// each would fail ("step is before its last observation"), so no market
// would ever be assessed. It happens when the clock moved back (a replay
// restarted on a sped-up clock, as `make demo-placer` run twice does, or a
// node whose clock was ahead wrote it).
func restorable(cm *corev1.ConfigMap, now time.Time) error {
	raw, ok := cm.Annotations[savedAtAnnotation]
	if !ok {
		return nil
	}
	at, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return fmt.Errorf("annotation %s %q: want an RFC 3339 time", savedAtAnnotation, raw)
	}
	if at.After(now) {
		return fmt.Errorf("checkpoint saved at %s, after now (%s): the clock moved back", raw, now.UTC().Format(time.RFC3339))
	}
	return nil
}

// savedAtAnnotation records when the checkpoint was saved.
const savedAtAnnotation = "trimtab.dev/saved-at"

// save writes the forecaster's state to its ConfigMap.
func (p *Prices) save(ctx context.Context, c client.Client, now time.Time) error {
	b, err := p.fc.MarshalBinary()
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: p.Checkpoint.Namespace, Name: p.Checkpoint.Name,
		Labels:      map[string]string{"app.kubernetes.io/managed-by": "trimtab"},
		Annotations: map[string]string{savedAtAnnotation: now.UTC().Format(time.RFC3339)}},
		BinaryData: map[string][]byte{CheckpointKey: b}}
	if p.Scores != nil {
		sb, err := p.Scores.marshal()
		if err != nil {
			return err
		}
		cm.BinaryData[ScoresKey] = sb
	}
	err = c.Create(ctx, cm)
	if apierrors.IsAlreadyExists(err) {
		var cur corev1.ConfigMap
		if err := c.Get(ctx, p.Checkpoint, &cur); err != nil {
			return err
		}
		cur.BinaryData = cm.BinaryData
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		cur.Annotations["trimtab.dev/saved-at"] = cm.Annotations["trimtab.dev/saved-at"]
		err = c.Update(ctx, &cur)
	}
	if err != nil {
		return fmt.Errorf("saving the spot forecaster to %s: %w", p.Checkpoint, err)
	}
	return nil
}

// Outlooks holds each workload's spot outlook as the placer last computed
// it, for the decision controller to put in the Decision's capacity (which
// the pod webhook stamps). It is safe for concurrent use.
type Outlooks struct {
	mu sync.RWMutex
	m  map[placer.Key]capacity.Outlook
	// known are the workloads whose outlook the placer has assessed on
	// fresh prices since the manager started (or carried over from such a
	// round); m holds those of them that are off spot.
	known map[placer.Key]bool
}

// Set replaces every outlook: m the workloads off spot, known those whose
// outlook is known (off spot or not).
func (o *Outlooks) Set(m map[placer.Key]capacity.Outlook, known map[placer.Key]bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.m, o.known = m, known
}

// Outlook is the outlook of a workload ("Deployment", "web"): the zero
// outlook (nothing against spot) when the placer has none.
func (o *Outlooks) Outlook(namespace, kind, name string) capacity.Outlook {
	if o == nil {
		return capacity.Outlook{}
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.m[placer.Key{Namespace: namespace, Kind: kind, Name: name}]
}

// Known says whether the placer has assessed the workload's outlook since
// the manager started. Until it has (its first rounds after a start or a
// leader change, or prices that have not come back since), the decision
// controller holds the workload's last capacity rather than read "no
// outlook" as "spot".
func (o *Outlooks) Known(namespace, kind, name string) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.known[placer.Key{Namespace: namespace, Kind: kind, Name: name}]
}

// get is the outlook published for k, and whether k is known.
func (o *Outlooks) get(k placer.Key) (capacity.Outlook, bool, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out, off := o.m[k]
	return out, off, o.known[k]
}

// follows says whether a workload's capacity follows the outlook: batch
// workloads with capacity auto (no pinned type). Critical and standard
// ones keep their policy's split; the placer never moves them either.
func follows(class config.Class, r capacity.Rule) bool {
	return class == config.ClassBatch && r.Pin == ""
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
